// The user-namespaces check: can this user make the namespaces the rootless
// backend builds its sandbox from? Judged from the probe child's attempt
// (check.hpp's namespace_probe), explained with the sysctls that explain it.
#include <cerrno>

#include <fmt/format.h>

#include "app/doctor/checks.hpp"

namespace netpen::app::doctor {
namespace {

constexpr const char* persist = " (to keep it after a reboot: echo '{} = {}' | sudo tee /etc/sysctl.d/90-netpen.conf)";

std::string sysctl_fix(std::string_view key, std::string_view value) {
  return fmt::format("sudo sysctl -w {}={}", key, value) + fmt::format(fmt::runtime(persist), key, value);
}

std::string sysctls_text(const userns_facts& f) {
  std::string out;
  const auto add = [&](std::string_view key, const std::optional<long>& v) {
    if (v) out += fmt::format("{}{} = {}", out.empty() ? "" : ", ", key, *v);
  };
  add("user.max_user_namespaces", f.max_user_namespaces);
  add("kernel.unprivileged_userns_clone", f.unprivileged_userns_clone);
  add("kernel.apparmor_restrict_unprivileged_userns", f.apparmor_restrict_userns);
  return out;
}

// unshare(CLONE_NEWUSER) failed with e: the sysctl that explains it, if any.
check_result userns_refused(const userns_facts& f, int e, check_result r) {
  r.ok = false;
  if (f.max_user_namespaces && *f.max_user_namespaces <= 0) {
    r.detail = "user namespaces are disabled (user.max_user_namespaces = 0)";
    r.fix = sysctl_fix("user.max_user_namespaces", "15000");
  } else if (!f.root && f.unprivileged_userns_clone && *f.unprivileged_userns_clone == 0) {
    r.detail = "unprivileged user namespaces are disabled (Debian's kernel.unprivileged_userns_clone = 0)";
    r.fix = sysctl_fix("kernel.unprivileged_userns_clone", "1");
  } else if (e == EPERM && f.chrooted.value_or(false)) {
    r.detail = "unshare(CLONE_NEWUSER) failed: " + errno_name(e) +
               ": netpen runs in a chroot, and the kernel makes no user namespace from inside one";
    r.fix = "run netpen outside the chroot (or in a container, which has its own mount namespace), or as root "
            "with --root";
  } else if (e == ENOSPC || e == EUSERS) {
    r.detail = fmt::format("unshare(CLONE_NEWUSER) failed: {}: the limit of user namespaces is reached", errno_name(e));
    r.fix = sysctl_fix("user.max_user_namespaces", "15000");
  } else {
    r.detail = fmt::format("unshare(CLONE_NEWUSER) failed: {}{}", errno_name(e),
                           e == EPERM ? " (in a container, its seccomp profile or missing privileges may forbid it)" : "");
    r.fix = "allow user namespaces for this user (in Docker: --security-opt seccomp=unconfined, or run netpen "
            "--root as root)";
  }
  return r;
}

}  // namespace

check_result judge_user_namespaces(const userns_facts& f) {
  check_result r{"user-namespaces", true, need::required, "", ""};
  if (!f.missing_ns.empty()) {
    std::string missing;
    for (const auto& ns : f.missing_ns) missing += (missing.empty() ? "" : ", ") + ns;
    r.ok = false;
    r.detail = fmt::format("this kernel lacks {} namespaces (/proc/self/ns)", missing);
    r.fix = "use a kernel built with CONFIG_USER_NS, CONFIG_NET_NS, CONFIG_PID_NS (Debian's and Ubuntu's are)";
    return r;
  }
  const std::string sysctls = sysctls_text(f);
  const std::string suffix = sysctls.empty() ? "" : "; " + sysctls;
  if (!f.probe.ran || !f.probe.userns) {
    r.ok = false;
    r.detail = "could not try: the probe process did not report back" + suffix;
    r.fix = "run 'netpen -v -- true' to see which step fails";
    return r;
  }
  if (*f.probe.userns != 0) return userns_refused(f, *f.probe.userns, r);
  if (!f.probe.other_ns || *f.probe.other_ns != 0) {
    const int e = f.probe.other_ns.value_or(0);
    r.ok = false;
    if (!f.root && f.apparmor_restrict_userns && *f.apparmor_restrict_userns == 1) {
      r.detail = fmt::format("a user namespace is created, but AppArmor withholds its capabilities "
                             "(kernel.apparmor_restrict_unprivileged_userns = 1): a network namespace inside it "
                             "fails{}", e != 0 ? ": " + errno_name(e) : "");
      r.fix = "allow it for netpen with an AppArmor profile: printf 'abi <abi/4.0>,\\ninclude <tunables/global>\\n"
              "profile netpen /usr/bin/netpen flags=(unconfined) {\\n  userns,\\n}\\n' | sudo tee "
              "/etc/apparmor.d/netpen && sudo apparmor_parser -r /etc/apparmor.d/netpen (or, for every program: " +
              sysctl_fix("kernel.apparmor_restrict_unprivileged_userns", "0") + ")";
    } else {
      r.detail = fmt::format("a user namespace is created, but network, mount and pid namespaces inside it fail{}",
                             e != 0 ? ": " + errno_name(e) : "");
      r.fix = "use a kernel with CONFIG_NET_NS and CONFIG_PID_NS; in a container, allow unshare (Docker: "
              "--security-opt seccomp=unconfined --security-opt apparmor=unconfined)";
    }
    return r;
  }
  r.detail = "unshare(CLONE_NEWUSER) works, and network, mount and pid namespaces inside it" + suffix;
  return r;
}

}  // namespace netpen::app::doctor
