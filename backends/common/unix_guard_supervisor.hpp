// The Unix-socket guard: netpen's side (--block-unix, implied by --offline
// and every default-deny policy). Theory of operation:
//
// The sandbox init installs a seccomp filter (unix_guard_filter.hpp) that
// the whole tree inherits: connect, sendmsg, sendmmsg and sendto with a
// destination stop the calling thread and notify this supervisor (one
// thread of netpen, polling the listener fd). For each notification:
//   1. the target's socket fd is copied (pidfd_open + pidfd_getfd) and its
//      domain and type read from the socket itself, never from the address
//      the tree passed: a socket that is not AF_UNIX can never reach a Unix
//      path, so the call continues in the kernel (SECCOMP_USER_NOTIF_FLAG_
//      CONTINUE; this is what every TCP/UDP connect costs). So do sendto/
//      sendmsg on a stream or seqpacket Unix socket (the kernel ignores or
//      refuses their destination);
//   2. otherwise the address (and for datagrams the payload) is copied out
//      of the tree's memory (process_vm_readv, bounded), then the
//      notification id is checked (SECCOMP_IOCTL_NOTIF_ID_VALID) so the pid
//      still names the trapped thread;
//   3. a pathname is opened O_PATH as the process sees it (its root with
//      RESOLVE_IN_ROOT, or its cwd; no magic links) and must be a socket.
//      It is allowed when a socket of the sandbox's network namespace is
//      bound to that inode (sock_diag), or an --allow-unix entry names it
//      (files by inode, directories by real path); else the call fails
//      with EACCES and one `denied` event (protocol "unix") names the
//      process and the path;
//   4. allowed calls are not continued (the kernel would read the address
//      again, and another thread could have swapped it): the supervisor
//      performs them itself on its copy of the tree's socket, to
//      "/proc/self/fd/N" of the O_PATH fd it checked (exactly that inode),
//      and returns their result (0, -errno, EINPROGRESS for non-blocking
//      sockets). When netpen is root and the process is not, the call runs
//      with the process's uid, gid and groups on this thread only, so the
//      socket file's permissions are checked for the tree's user and the
//      server's SO_PEERCRED shows that uid/gid (its pid is netpen's).
//      Abstract and unnamed addresses on Unix sockets are emulated the same
//      way with the copied address (no re-read).
// Limits (docs/policy.md): a datagram sendmsg with ancillary data and no
// pathname destination, and sendmmsg without one, are continued (another
// thread could swap msg_name meanwhile); ancillary data to a pathname
// destination and sendmmsg to an allowed pathname are refused with EPERM;
// the fd number is read twice (a thread could dup2 a Unix socket over a
// TCP one between the check and the continued call); a blocking connect to
// a server whose backlog is full holds the guard until it accepts.
#pragma once
#include <sys/types.h>

#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "backends/common/unique_fd.hpp"
#include "backends/common/unix_guard_logic.hpp"
#include "net/events/event.hpp"

namespace netpen::backends {

struct unix_guard_fds {
  unique_fd listener;  // the seccomp notification fd
  unique_fd diag;      // NETLINK_SOCK_DIAG in the sandbox's network namespace
  explicit operator bool() const { return listener.get() >= 0; }
};

struct unix_refusal {
  events::process_info process;
  std::string path;  // as the tree gave it
  std::string call;  // "connect", "sendto", "sendmsg", "sendmmsg"
};

class unix_guard_supervisor {
 public:
  using refusal_sink = std::function<void(const unix_refusal&)>;
  // allow: --allow-unix, absolute and normalized.
  unix_guard_supervisor(unix_guard_fds fds, std::vector<std::string> allow, refusal_sink on_refusal);
  ~unix_guard_supervisor();  // stops and joins
  unix_guard_supervisor(const unix_guard_supervisor&) = delete;
  unix_guard_supervisor& operator=(const unix_guard_supervisor&) = delete;

  void start();
  void stop();
  std::uint64_t refused() const { return refused_.load(); }

 private:
  void run();

  unix_guard_fds fds_;
  std::vector<std::string> allow_;
  refusal_sink on_refusal_;
  unique_fd wake_;  // eventfd: stop()
  std::thread thread_;
  std::atomic<std::uint64_t> refused_{0};
};

}  // namespace netpen::backends
