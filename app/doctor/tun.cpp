// The tun check: can the rootless backend make its tap0? /dev/net/tun must
// exist, open for this user (the sandbox's root is this user as far as the
// device node is concerned: its owner, root, is not mapped into the user
// namespace), and let a tap device be created inside a user namespace.
#include <cerrno>

#include <fmt/format.h>

#include "app/doctor/checks.hpp"

namespace netpen::app::doctor {

// The udev rule that keeps /dev/net/tun 0666 across reboots.
constexpr const char* tun_udev_rule = "KERNEL==\"tun\", MODE=\"0666\"";

check_result judge_tun(const tun_facts& f) {
  check_result r{"tun", true, need::required, "", ""};
  constexpr const char* modprobe =
      "sudo modprobe tun (to load it at every boot: echo tun | sudo tee /etc/modules-load.d/netpen.conf; "
      "in a container: docker run --device /dev/net/tun)";
  if (!f.exists) {
    r.ok = false;
    r.detail = "/dev/net/tun does not exist (the tun module is not loaded, or this container has no such device)";
    r.fix = modprobe;
    return r;
  }
  if (!f.char_device) {
    r.ok = false;
    r.detail = "/dev/net/tun is not a character device";
    r.fix = "sudo rm /dev/net/tun && sudo mknod -m 0666 /dev/net/tun c 10 200";
    return r;
  }
  if (f.open_errno == EACCES || f.open_errno == EPERM) {
    r.ok = false;
    r.detail = fmt::format("/dev/net/tun is mode {:04o}: this user cannot open it for reading and writing", f.mode);
    r.fix = fmt::format(
        "sudo chmod 0666 /dev/net/tun (to keep it after a reboot, a udev rule: echo '{}' | sudo tee "
        "/etc/udev/rules.d/60-netpen-tun.rules && sudo udevadm control --reload && sudo udevadm trigger "
        "--name-match=net/tun)",
        tun_udev_rule);
    return r;
  }
  if (f.open_errno != 0) {
    r.ok = false;
    r.detail = fmt::format("opening /dev/net/tun fails: {}", errno_name(f.open_errno));
    r.fix = modprobe;
    return r;
  }
  const auto& p = f.probe;
  const std::optional<int> inside = p.tun_open && *p.tun_open != 0 ? p.tun_open : p.tap_create;
  if (p.ran && inside && *inside != 0) {
    r.ok = false;
    r.detail = fmt::format("/dev/net/tun opens, but {} inside a user namespace fails: {}",
                           p.tun_open && *p.tun_open != 0 ? "opening it" : "creating a tap device (TUNSETIFF)",
                           errno_name(*inside));
    r.fix = "use a kernel whose tun driver works in user namespaces (CONFIG_TUN, Linux 4.x or later); in a "
            "container, pass the device: docker run --device /dev/net/tun";
    return r;
  }
  r.detail = fmt::format("/dev/net/tun is mode {:04o} and opens", f.mode);
  if (p.tap_create && *p.tap_create == 0) r.detail += "; a tap device can be created in a user namespace";
  return r;
}

}  // namespace netpen::app::doctor
