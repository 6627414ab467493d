// What the Unix-socket guard does to one trapped process (blocking, on the
// guard's thread): read its memory (process_vm_readv, bounded), write a
// result back (process_vm_writev), copy one of its fds (pidfd_getfd),
// resolve a socket path as that process would (its root and cwd), and take
// its file-system credentials for one call (per-thread setresuid/setresgid/
// setgroups system calls, not glibc's process-wide wrappers).
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "backends/common/unique_fd.hpp"
#include "backends/common/unix_guard_logic.hpp"
#include "net/events/event.hpp"

namespace netpen::backends::unix_guard {

// `len` bytes at `address` in pid's memory; nullopt when unreadable.
std::optional<std::vector<std::byte>> read_memory(pid_t pid, std::uint64_t address, std::size_t len);
bool write_memory(pid_t pid, std::uint64_t address, const void* data, std::size_t len);

// The process's fd `fd`, copied into netpen (-errno on failure).
int copy_fd(int pidfd, int fd);

// Opens `path` (O_PATH) as pid sees it: absolute paths inside its root
// (/proc/PID/root, RESOLVE_IN_ROOT), relative ones from its cwd; magic
// links (/proc/*/fd/*) are not followed. -errno on failure.
int open_in_tree(pid_t pid, const std::string& path);
// What the opened fd is: a socket?, its dev/inode and real path.
resolved_socket describe(int opened_fd);

// For the --allow-unix files: their current inode (netpen's view).
std::vector<allow_entry> resolve_allow_entries(const std::vector<std::string>& paths);

// Runs with pid's effective uid, gid and groups on this thread when netpen
// is root and pid is not (so the kernel checks the socket file's
// permissions for the tree's user, and the server's SO_PEERCRED shows it).
class borrowed_credentials {
 public:
  explicit borrowed_credentials(pid_t pid);
  ~borrowed_credentials();
  borrowed_credentials(const borrowed_credentials&) = delete;
  borrowed_credentials& operator=(const borrowed_credentials&) = delete;
  bool ok() const { return ok_; }

 private:
  bool switched_ = false;
  bool ok_ = true;
  std::vector<gid_t> groups_;
};

// The process for an event: host pid, pid in the tree, command line.
events::process_info process_of(pid_t pid);

}  // namespace netpen::backends::unix_guard
