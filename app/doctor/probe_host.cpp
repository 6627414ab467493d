// The rootless probes (see probes.hpp): sysctls, /dev/net/tun, the uidmap
// helpers and subordinate ids, the ping socket, the kernel release.
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "app/doctor/probes.hpp"
#include "backends/common/sysctl.hpp"
#include "backends/rootless/uid_map.hpp"

namespace netpen::app::doctor {
namespace {

std::optional<long> sysctl_number(const char* path) {
  auto v = backends::read_sysctl_int(path);
  return v ? std::optional<long>(*v) : std::nullopt;
}

std::string read_text(const char* path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string user_name() {
  if (const passwd* pw = ::getpwuid(::getuid())) return pw->pw_name;
  return std::to_string(::getuid());
}

// The first executable `name` on PATH, else in /usr/bin; setuid root or
// with file capabilities counts as privileged.
helper_facts find_helper(const std::string& name) {
  std::string path = std::getenv("PATH") != nullptr ? std::getenv("PATH") : "";
  path += ":/usr/bin:/bin:/usr/sbin";
  std::istringstream dirs(path);
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (dir.empty()) continue;
    const std::string file = dir + "/" + name;
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || ::access(file.c_str(), X_OK) != 0) continue;
    const bool setuid_root = (st.st_mode & S_ISUID) != 0 && st.st_uid == 0;
    const bool caps = ::getxattr(file.c_str(), "security.capability", nullptr, 0) > 0;
    return helper_facts{file, setuid_root || caps};
  }
  return {};
}

}  // namespace

// In a chroot the kernel refuses new user namespaces (EPERM). Seen from
// inside one, /proc/self/mountinfo lists only the mounts below the new root,
// so no mount is at "/" (unless the chroot is itself a mount point); then
// "/" differs from pid 1's root where that may be read. Unknown when
// neither can be read.
std::optional<bool> probe_chroot() {
  std::ifstream mountinfo("/proc/self/mountinfo");
  const bool listed = static_cast<bool>(mountinfo);
  if (listed) {
    std::string line;
    bool root_mount = false;
    while (std::getline(mountinfo, line)) {
      std::istringstream fields(line);
      std::string id, parent, device, root, mount_point;
      if (fields >> id >> parent >> device >> root >> mount_point && mount_point == "/") root_mount = true;
    }
    if (!root_mount) return true;
  }
  struct stat own {}, init {};
  if (::stat("/", &own) != 0 || ::stat("/proc/1/root/", &init) != 0) return listed ? std::optional(false) : std::nullopt;
  return own.st_dev != init.st_dev || own.st_ino != init.st_ino;
}

userns_facts probe_userns(const namespace_probe& probe) {
  userns_facts f;
  for (const char* ns : {"user", "net", "mnt", "pid"}) {
    struct stat st {};
    if (::stat((std::string("/proc/self/ns/") + ns).c_str(), &st) != 0) f.missing_ns.emplace_back(ns);
  }
  f.max_user_namespaces = sysctl_number("user/max_user_namespaces");
  f.unprivileged_userns_clone = sysctl_number("kernel/unprivileged_userns_clone");
  f.apparmor_restrict_userns = sysctl_number("kernel/apparmor_restrict_unprivileged_userns");
  f.root = ::geteuid() == 0;
  f.chrooted = probe_chroot();
  f.probe = probe;
  return f;
}

tun_facts probe_tun(const namespace_probe& probe) {
  tun_facts f;
  f.root = ::geteuid() == 0;
  f.probe = probe;
  struct stat st {};
  if (::stat("/dev/net/tun", &st) != 0) {
    f.exists = false;
    return f;
  }
  f.char_device = S_ISCHR(st.st_mode);
  f.mode = st.st_mode & 07777;
  const int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    f.open_errno = errno;
  } else {
    ::close(fd);
  }
  return f;
}

id_map_facts probe_id_maps(const namespace_probe& probe) {
  id_map_facts f;
  f.root = ::geteuid() == 0;
  f.user = user_name();
  std::string group = f.user;
  if (const struct group* gr = ::getgrgid(::getgid())) group = gr->gr_name;
  f.subuid = backends::rootless::parse_subid(read_text("/etc/subuid"), f.user, ::getuid()).has_value();
  f.subgid = backends::rootless::parse_subid(read_text("/etc/subgid"), group, ::getgid()).has_value() ||
             backends::rootless::parse_subid(read_text("/etc/subgid"), f.user, ::getgid()).has_value();
  f.newuidmap = find_helper("newuidmap");
  f.newgidmap = find_helper("newgidmap");
  f.probe = probe;
  return f;
}

ping_facts probe_ping() {
  ping_facts f;
  f.root = ::geteuid() == 0;
  std::istringstream range(read_text("/proc/sys/net/ipv4/ping_group_range"));
  long low = 0, high = 0;
  if (range >> low >> high) f.range = std::pair{low, high};
  f.groups.push_back(::getgid());
  const int n = ::getgroups(0, nullptr);
  if (n > 0) {
    std::vector<gid_t> more(static_cast<std::size_t>(n));
    if (::getgroups(n, more.data()) == n)
      for (const gid_t g : more)
        if (g != ::getgid()) f.groups.push_back(g);
  }
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_ICMP);
  if (fd < 0) {
    f.socket_errno = errno;
  } else {
    ::close(fd);
  }
  return f;
}

kernel_facts probe_kernel() {
  utsname u{};
  if (::uname(&u) != 0) return {};
  return kernel_facts{u.release};
}

}  // namespace netpen::app::doctor
