// Private mounts, /proc and file overlays (see mount_overlays.hpp).
#include "backends/rootless/mount_overlays.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "backends/common/unique_fd.hpp"
#include "net/common/log.hpp"

namespace netpen::backends::rootless {
namespace {

constexpr const char* staging_dir = "/tmp";  // covered by a private tmpfs while staging

std::string dirname_of(const std::string& p) {
  const auto slash = p.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : p.substr(0, slash);
}

std::string basename_of(const std::string& p) { return p.substr(p.rfind('/') + 1); }

bool is_dir(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

result<void> mount_tmpfs(const std::string& dir, const char* why) {
  if (::mount("netpen", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") != 0)
    return fail("mount-overlay", fmt::format("mounting a tmpfs on {} ({}) failed: {}", dir, why, std::strerror(errno)));
  return {};
}

result<void> write_file(const std::string& path, const std::string& content) {
  unique_fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!fd) return fail("mount-overlay", fmt::format("creating {}: {}", path, std::strerror(errno)));
  std::size_t off = 0;
  while (off < content.size()) {
    const ssize_t n = ::write(fd.get(), content.data() + off, content.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("mount-overlay", fmt::format("writing {}: {}", path, std::strerror(errno)));
    }
    off += static_cast<std::size_t>(n);
  }
  ::fchmod(fd.get(), 0644);
  return {};
}

// Places `content` at `target` for the sandbox only; `sealed` gets the
// mount that now holds it (the bound file, or our own tmpfs directory).
result<void> overlay_file(const std::string& target, const std::string& content, const std::string& staged_name,
                          std::vector<std::string>& own_dirs, std::vector<std::string>& sealed) {
  struct stat st {};
  if (::stat(target.c_str(), &st) == 0) {
    const std::string staged = fmt::format("{}/{}", staging_dir, staged_name);
    if (auto r = write_file(staged, content); !r) return r;
    if (::mount(staged.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) != 0)
      return fail("mount-overlay", fmt::format("bind-mounting the sandbox's {} over {} failed: {}", staged_name,
                                               target, std::strerror(errno)));
    log::debug("overlay: {} bound over {}", staged_name, target);
    sealed.push_back(target);
    return {};
  }
  // The target does not exist (e.g. a dangling stub-resolv.conf link): create
  // it on a tmpfs of our own covering its directory.
  const std::string dir = dirname_of(target);
  if (std::find(own_dirs.begin(), own_dirs.end(), dir) == own_dirs.end()) {
    if (!is_dir(dir))
      return fail("mount-overlay", fmt::format("cannot place the sandbox's {}: neither {} nor its directory exist",
                                               staged_name, target));
    if (auto r = mount_tmpfs(dir, "to hold a missing symlink target"); !r) return r;
    own_dirs.push_back(dir);
  }
  log::debug("overlay: {} created on a private tmpfs", target);
  sealed.push_back(dir);
  return write_file(target, content);
}

// Makes each overlay mount read-only (and nosuid, nodev, noexec): the tree,
// which may own the tmpfs files, can then not change them; without
// CAP_SYS_ADMIN it cannot remount or unmount them either, and in a mount
// namespace of its own they are locked read-only and in place.
result<void> seal(const std::vector<std::string>& mounts) {
  for (const auto& m : mounts) {
    if (::mount(nullptr, m.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                nullptr) != 0)
      return fail("mount-overlay", fmt::format("making the sandbox's {} read-only failed: {}", m, std::strerror(errno)));
  }
  return {};
}

}  // namespace

std::string resolve_symlinks(const std::string& path) {
  std::string p = path;
  for (int hops = 0; hops < 16; ++hops) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) break;
    char buf[PATH_MAX];
    const ssize_t n = ::readlink(p.c_str(), buf, sizeof buf - 1);
    if (n <= 0) break;
    std::string link(buf, static_cast<std::size_t>(n));
    p = link.front() == '/' ? link : fmt::format("{}/{}", dirname_of(p), link);
  }
  // Canonicalise the directory part (it may contain '..' or links itself).
  const std::string dir = dirname_of(p);
  if (char* real = ::realpath(dir.c_str(), nullptr)) {
    std::string d(real);
    std::free(real);
    return d == "/" ? "/" + basename_of(p) : d + "/" + basename_of(p);
  }
  return p;
}

result<void> make_mounts_private() {
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    return fail("mount-private", fmt::format("making the sandbox's mounts private failed: {}", std::strerror(errno)));
  return {};
}

result<void> mount_fresh_proc() {
  if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
    return fail("mount-proc",
                fmt::format("mounting /proc for the sandbox's pid namespace failed: {}; this happens when the "
                            "host's /proc is partly masked (e.g. inside some containers)",
                            std::strerror(errno)));
  return {};
}

void mount_fresh_sysfs(bool read_only) {
  // sysfs shows the devices of the mounting process's network namespace, so
  // without this /sys/class/net would list the host's interfaces. Not fatal:
  // some hosts forbid sysfs mounts in user namespaces, and isolation does not
  // depend on it.
  const unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC | (read_only ? static_cast<unsigned long>(MS_RDONLY) : 0UL);
  if (::mount("sysfs", "/sys", "sysfs", flags, nullptr) != 0)
    log::debug("sandbox child: mounting sysfs failed ({}); /sys still shows the host's devices", std::strerror(errno));
}

result<void> apply_file_overlays(const std::string& resolv_conf, const std::optional<std::string>& hosts,
                                 bool read_only) {
  std::vector<std::string> own_dirs, sealed;
  if (is_dir("/run/systemd/resolve")) {
    if (auto r = mount_tmpfs("/run/systemd/resolve", "hiding systemd-resolved from nss-resolve"); !r) return r;
    own_dirs.emplace_back("/run/systemd/resolve");
    sealed.emplace_back("/run/systemd/resolve");
  }
  // Resolve targets before the staging tmpfs covers anything.
  const std::string resolv_target = resolve_symlinks("/etc/resolv.conf");
  const std::string hosts_target = resolve_symlinks("/etc/hosts");
  if (auto r = mount_tmpfs(staging_dir, "staging overlay files"); !r) return r;
  auto done = [&]() -> result<void> {
    if (auto r = overlay_file(resolv_target, resolv_conf, "resolv.conf", own_dirs, sealed); !r) return r;
    if (hosts) return overlay_file(hosts_target, *hosts, "hosts", own_dirs, sealed);
    return {};
  }();
  // Bind mounts keep their files alive; the staging mount itself goes away.
  if (::umount2(staging_dir, MNT_DETACH) != 0 && done)
    return fail("mount-overlay", fmt::format("removing the staging tmpfs failed: {}", std::strerror(errno)));
  if (!done || !read_only) return done;
  std::sort(sealed.begin(), sealed.end());
  sealed.erase(std::unique(sealed.begin(), sealed.end()), sealed.end());
  return seal(sealed);
}

result<void> make_proc_sys_read_only() {
  if (::mount("/proc/sys", "/proc/sys", nullptr, MS_BIND | MS_REC, nullptr) != 0 ||
      ::mount(nullptr, "/proc/sys", nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
              nullptr) != 0)
    return fail("mount-proc", fmt::format("making the sandbox's /proc/sys read-only failed: {}", std::strerror(errno)));
  return {};
}

void make_mounts_nosuid() {
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_NOSUID;
  if (::mount_setattr(AT_FDCWD, "/", AT_RECURSIVE, &attr, sizeof attr) != 0)
    log::debug("sandbox child: making every mount nosuid failed ({}); set-user-ID and file-capability programs "
               "still gain nothing, but one marked cap_...=ep cannot start",
               std::strerror(errno));
}

}  // namespace netpen::backends::rootless
