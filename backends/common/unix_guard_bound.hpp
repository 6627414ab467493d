// The Unix sockets bound inside the sandbox's network namespace, asked of
// the kernel with sock_diag (NETLINK_SOCK_DIAG, UNIX_DIAG, UDIAG_SHOW_VFS:
// each bound socket's file dev/inode). The netlink socket was made by the
// sandbox init in that namespace (unix_guard_filter.hpp): a dump lists the
// sockets of the namespace the netlink socket belongs to, whoever asks.
// Blocking; one caller at a time (the guard's thread).
#pragma once
#include <span>

#include "backends/common/unix_guard_logic.hpp"
#include "net/common/error.hpp"

namespace netpen::backends::unix_guard {

// Every (dev, inode) a socket of the namespace is bound to now.
result<bound_set> bound_sockets(int diag_fd);

// Adds the (dev, inode) pairs of one recv()'s worth of UNIX_DIAG replies;
// false once NLMSG_DONE (or an error message) was seen. Pure.
bool parse_diag_replies(std::span<const std::byte> bytes, bound_set& out, int& error);

}  // namespace netpen::backends::unix_guard
