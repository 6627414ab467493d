// The Unix-socket guard's seccomp filter, installed by the sandbox init
// (pid 1 of the tree) once its set-up is done and before any command runs,
// so every process of the tree inherits it (filters survive fork, clone and
// execve and cannot be removed). See unix_guard_supervisor.hpp for the
// whole mechanism. The filter (native x86_64):
//   connect, sendmsg, sendmmsg, and sendto with a destination (arg 4 != 0)
//     -> SECCOMP_RET_USER_NOTIF: netpen's supervisor answers;
//   sendto without a destination -> allowed in the kernel (the registers are
//     what the kernel uses, so nothing can be swapped);
//   io_uring_setup -> EPERM (io_uring's connect/sendmsg ops bypass seccomp);
//   the i386 and x32 ABIs: connect, sendto, sendmsg, sendmmsg, socketcall
//     and io_uring_setup -> EPERM (not inspected: refused).
// No NO_NEW_PRIVS: the init holds CAP_SYS_ADMIN in its user namespace (or
// is root), so setuid programs of the tree keep working.
//
// Hand-over without deadlock: the init's own later sendmsg calls (control
// channel, fd passing) are trapped too, so the listener cannot travel by
// SCM_RIGHTS. The init writes "guard <listener> <diag>" with write(2) (not
// trapped) and netpen pulls both fds with pidfd_getfd(2). The diag fd is a
// NETLINK_SOCK_DIAG socket made in the sandbox's network namespace, which
// lists the sockets bound there (unix_guard_bound.hpp).
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "net/common/error.hpp"

namespace netpen::backends {

inline constexpr std::string_view msg_unix_guard = "guard";  // "guard <listener fd> <diag fd>"
inline constexpr std::string_view msg_unix_guard_taken = "guard-taken";  // netpen holds its copies

// In the init, single-threaded: opens the diag socket, installs the filter
// and writes the hand-over message on control_fd. Errors name the step.
struct unix_guard_fd_numbers {
  int listener = -1, diag = -1;
};
result<unix_guard_fd_numbers> install_unix_guard(int control_fd);
// The init's one call: install_unix_guard, then wait until netpen took the
// fds and close the init's copies (a process of the tree that could reach
// the init's fds must not find the listener). On failure the error goes
// to netpen (msg_error_tag) and the init exits: no command runs unguarded.
void start_unix_guard(int control_fd);

// netpen's side: parses "guard L D".
std::optional<unix_guard_fd_numbers> parse_unix_guard_message(std::string_view payload);

}  // namespace netpen::backends
