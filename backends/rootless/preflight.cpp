// Rootless preflight checks (see preflight.hpp).
#include "backends/rootless/preflight.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "backends/common/sysctl.hpp"

namespace netpen::backends::rootless {
namespace {

// A sysctl's number; nullopt when this kernel has no such sysctl.
std::optional<long> sysctl_value(const char* path) {
  auto v = read_sysctl_int(path);
  if (!v) return std::nullopt;
  return *v;
}

bool exists(const char* path) {
  struct stat st {};
  return ::stat(path, &st) == 0;
}

}  // namespace

host_facts gather_host_facts() {
  host_facts f;
  f.ns_user = exists("/proc/self/ns/user");
  f.ns_net = exists("/proc/self/ns/net");
  f.ns_mnt = exists("/proc/self/ns/mnt");
  f.ns_pid = exists("/proc/self/ns/pid");
  f.max_user_namespaces = sysctl_value("user/max_user_namespaces");
  f.unprivileged_userns_clone = sysctl_value("kernel/unprivileged_userns_clone");
  f.apparmor_restrict_userns = sysctl_value("kernel/apparmor_restrict_unprivileged_userns");
  f.uid = ::getuid();
  f.tun_exists = exists("/dev/net/tun");
  if (f.tun_exists) {
    const int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
      f.tun_open_errno = errno;
    } else {
      ::close(fd);
    }
  }
  return f;
}

result<void> evaluate_preflight(const host_facts& f) {
  const bool root = f.uid == 0;
  if (!f.ns_user || !f.ns_net || !f.ns_mnt || !f.ns_pid) {
    std::string missing;
    for (auto [ok, name] : {std::pair{f.ns_user, "user"}, {f.ns_net, "net"}, {f.ns_mnt, "mnt"}, {f.ns_pid, "pid"}})
      if (!ok) missing += missing.empty() ? name : fmt::format(", {}", name);
    return fail("namespaces-unsupported",
                fmt::format("this kernel lacks {} namespaces (/proc/self/ns); use a kernel built with "
                            "CONFIG_USER_NS, CONFIG_NET_NS, CONFIG_PID_NS and mount namespaces",
                            missing));
  }
  if (f.max_user_namespaces && *f.max_user_namespaces <= 0)
    return fail("userns-disabled",
                "user namespaces are disabled (user.max_user_namespaces = 0); enable them with "
                "'sudo sysctl -w user.max_user_namespaces=15000' (persist it in /etc/sysctl.d/)");
  if (!root && f.unprivileged_userns_clone && *f.unprivileged_userns_clone == 0)
    return fail("userns-disabled",
                "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = 0); enable them "
                "with 'sudo sysctl -w kernel.unprivileged_userns_clone=1' (persist it in /etc/sysctl.d/)");
  if (!root && f.apparmor_restrict_userns && *f.apparmor_restrict_userns == 1)
    return fail("userns-apparmor",
                "AppArmor restricts unprivileged user namespaces on this host "
                "(kernel.apparmor_restrict_unprivileged_userns = 1), so netpen would get a namespace without "
                "the capabilities it needs; allow it with an AppArmor profile for the netpen binary that "
                "grants 'userns,' (e.g. /etc/apparmor.d/netpen), or run "
                "'sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0'");
  if (!f.tun_exists)
    return fail("tun-missing",
                "/dev/net/tun does not exist; load the tun module with 'sudo modprobe tun' (in a container, "
                "pass the device through, e.g. 'docker run --device /dev/net/tun')");
  if (f.tun_open_errno == EACCES || f.tun_open_errno == EPERM)
    return fail("tun-permission",
                "/dev/net/tun is not readable and writable by this user (many hosts ship it 0666, this one "
                "does not); run 'sudo chmod 0666 /dev/net/tun', or make it permanent with a udev rule "
                "'KERNEL==\"tun\", MODE=\"0666\"' in /etc/udev/rules.d/60-netpen-tun.rules");
  if (f.tun_open_errno != 0)
    return fail("tun-unavailable",
                fmt::format("cannot open /dev/net/tun: {}; check that the tun module is loaded "
                            "('sudo modprobe tun')",
                            std::strerror(f.tun_open_errno)));
  return {};
}

}  // namespace netpen::backends::rootless
