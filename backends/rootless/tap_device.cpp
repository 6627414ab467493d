// tap0 creation (see tap_device.hpp).
#include "backends/rootless/tap_device.hpp"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "net/common/log.hpp"
#include "net/common/sandbox_addresses.hpp"

namespace netpen::backends::rootless {

result<tap_device> create_tap() {
  tap_device tap;
  tap.fd.reset(::open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK));
  if (!tap.fd) {
    const int e = errno;
    if (e == EACCES || e == EPERM)
      return fail("tun-permission",
                  "opening /dev/net/tun inside the sandbox was denied; run 'sudo chmod 0666 /dev/net/tun' "
                  "or add the udev rule 'KERNEL==\"tun\", MODE=\"0666\"'");
    return fail("tun-unavailable", fmt::format("opening /dev/net/tun inside the sandbox: {}", std::strerror(e)));
  }
  ifreq ifr{};
  const std::string name(sandbox::tap_name);
  std::memcpy(ifr.ifr_name, name.data(), std::min(name.size(), sizeof(ifr.ifr_name) - 1));
  ifr.ifr_flags = static_cast<short>(IFF_TAP | IFF_NO_PI | IFF_VNET_HDR);
  if (::ioctl(tap.fd.get(), TUNSETIFF, &ifr) != 0)
    return fail("tap-create",
                fmt::format("creating {} (TUNSETIFF) failed: {}; the kernel needs tun/tap support "
                            "(CONFIG_TUN) usable from user namespaces",
                            name, std::strerror(errno)));
  // Persistent: netpen's final close of the fd then only detaches, instead
  // of unregistering tap0 synchronously (~20 ms of RCU waits on netpen's exit
  // path). The device still dies with the namespace, whose cleanup the kernel
  // runs asynchronously once no process and no fd holds it.
  if (::ioctl(tap.fd.get(), TUNSETPERSIST, 1) != 0)
    log::debug("sandbox child: TUNSETPERSIST failed: {}", std::strerror(errno));
  // Every frame carries a virtio-net header (sandbox::tap_vnet_header_size),
  // and the child's kernel may leave TCP/UDP checksums to the relay, which
  // never checks them: no software checksum of 64 KiB segments on the way out.
  int hdr_size = sandbox::tap_vnet_header_size;
  if (::ioctl(tap.fd.get(), TUNSETVNETHDRSZ, &hdr_size) != 0)
    return fail("tap-create", fmt::format("setting {}'s virtio-net header size failed: {}", name, std::strerror(errno)));
  if (::ioctl(tap.fd.get(), TUNSETOFFLOAD, TUN_F_CSUM) != 0)
    log::debug("sandbox child: TUNSETOFFLOAD failed: {}", std::strerror(errno));
  tap.ifindex = static_cast<int>(::if_nametoindex(name.c_str()));
  if (tap.ifindex == 0) return fail("tap-create", fmt::format("{} was created but has no interface index", name));
  return tap;
}

}  // namespace netpen::backends::rootless
