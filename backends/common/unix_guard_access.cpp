// The guard's access to a trapped process (see unix_guard_access.hpp).
#include "backends/common/unix_guard_access.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "net/relay/process_finder.hpp"

namespace netpen::backends::unix_guard {
namespace {

std::string proc(pid_t pid, const char* what) { return "/proc/" + std::to_string(pid) + "/" + what; }

// "Uid:" / "Gid:" / "Groups:" lines of /proc/PID/status.
struct status_ids {
  uid_t euid = 0;
  gid_t egid = 0;
  std::vector<gid_t> groups;
  int nspid = 0;
  pid_t tgid = 0;
  bool ok = false;
};

status_ids read_status(pid_t pid) {
  status_ids s;
  std::ifstream in(proc(pid, "status"));
  std::string line;
  bool have_uid = false, have_gid = false;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string key;
    fields >> key;
    unsigned long real = 0, effective = 0;
    if (key == "Uid:" && (fields >> real >> effective)) s.euid = static_cast<uid_t>(effective), have_uid = true;
    if (key == "Gid:" && (fields >> real >> effective)) s.egid = static_cast<gid_t>(effective), have_gid = true;
    if (key == "Groups:")
      for (unsigned long g = 0; fields >> g;) s.groups.push_back(static_cast<gid_t>(g));
    if (key == "Tgid:") fields >> s.tgid;
    if (key == "NSpid:")
      for (int p = 0; fields >> p;) s.nspid = p;  // the innermost namespace's pid comes last
  }
  s.ok = have_uid && have_gid;
  return s;
}

}  // namespace

std::optional<std::vector<std::byte>> read_memory(pid_t pid, std::uint64_t address, std::size_t len) {
  std::vector<std::byte> out(len);
  if (len == 0) return out;
  iovec local{out.data(), len};
  iovec remote{reinterpret_cast<void*>(address), len};
  const ssize_t n = ::process_vm_readv(pid, &local, 1, &remote, 1, 0);
  if (n != static_cast<ssize_t>(len)) return std::nullopt;
  return out;
}

bool write_memory(pid_t pid, std::uint64_t address, const void* data, std::size_t len) {
  iovec local{const_cast<void*>(data), len};
  iovec remote{reinterpret_cast<void*>(address), len};
  return ::process_vm_writev(pid, &local, 1, &remote, 1, 0) == static_cast<ssize_t>(len);
}

int copy_fd(int pidfd, int fd) {
  const long r = ::syscall(SYS_pidfd_getfd, pidfd, fd, 0U);
  return r < 0 ? -errno : static_cast<int>(r);
}

int open_in_tree(pid_t pid, const std::string& path) {
  const bool absolute = path.starts_with('/');
  const int base = ::open(proc(pid, absolute ? "root" : "cwd").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (base < 0) return -errno;
  open_how how{};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_NO_MAGICLINKS | (absolute ? RESOLVE_IN_ROOT : 0);
  const long fd = ::syscall(SYS_openat2, base, path.c_str(), &how, sizeof how);
  const int err = errno;
  ::close(base);
  return fd < 0 ? -err : static_cast<int>(fd);
}

resolved_socket describe(int opened_fd) {
  resolved_socket s;
  struct stat st{};
  if (::fstat(opened_fd, &st) != 0) return s;
  s.is_socket = S_ISSOCK(st.st_mode);
  s.dev = st.st_dev;
  s.ino = st.st_ino;
  char buf[4096];
  const std::string link = "/proc/self/fd/" + std::to_string(opened_fd);
  const ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
  if (n > 0 && buf[0] == '/') s.real_path.assign(buf, static_cast<std::size_t>(n));
  return s;
}

std::vector<allow_entry> resolve_allow_entries(const std::vector<std::string>& paths) {
  std::vector<allow_entry> out;
  for (const auto& p : paths) {
    allow_entry e;
    e.path = p;
    struct stat st{};
    if (::stat(p.c_str(), &st) == 0) {
      e.directory = S_ISDIR(st.st_mode);
      e.dev = st.st_dev;
      e.ino = st.st_ino;
    } else {
      continue;  // nothing there (now): allows nothing
    }
    if (e.directory) {  // compare against the directory's real path (the socket's readlink is one)
      char real[4096];
      if (::realpath(p.c_str(), real) != nullptr) e.path = real;
    }
    out.push_back(std::move(e));
  }
  return out;
}

borrowed_credentials::borrowed_credentials(pid_t pid) {
  if (::geteuid() != 0) return;
  const status_ids ids = read_status(pid);
  if (!ids.ok) {
    ok_ = false;
    return;
  }
  if (ids.euid == 0) return;
  const int n = ::getgroups(0, nullptr);
  groups_.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  if (n > 0 && ::getgroups(n, groups_.data()) < 0) groups_.clear();
  switched_ = true;
  // Raw system calls: they change this thread only (glibc's wrappers change every thread).
  ok_ = ::syscall(SYS_setgroups, ids.groups.size(), ids.groups.data()) == 0 &&
        ::syscall(SYS_setresgid, -1, ids.egid, -1) == 0 && ::syscall(SYS_setresuid, -1, ids.euid, -1) == 0;
}

borrowed_credentials::~borrowed_credentials() {
  if (!switched_) return;
  // Back to root first (restores the effective capabilities), then the groups.
  if (::syscall(SYS_setresuid, -1, 0, -1) != 0 || ::syscall(SYS_setresgid, -1, 0, -1) != 0 ||
      ::syscall(SYS_setgroups, groups_.size(), groups_.data()) != 0)
    ::abort();  // never go on with a thread holding someone else's credentials
}

events::process_info process_of(pid_t pid) {
  events::process_info p;
  const status_ids thread = read_status(pid);  // pid may be a thread's id: name its process
  if (thread.tgid > 0) pid = thread.tgid;
  p.pid = pid;
  p.sandbox_pid = read_status(pid).nspid;
  p.command = relay::command_line(pid);
  return p;
}

}  // namespace netpen::backends::unix_guard
