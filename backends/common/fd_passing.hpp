// Small framed messages over a SOCK_SEQPACKET socketpair, optionally carrying
// file descriptors (SCM_RIGHTS, at most max_message_fds a message). The
// sandbox child uses it to hand the parent its tap fd and its --host-port
// listeners, or a precise error when a setup step failed.
#pragma once
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backends/common/unique_fd.hpp"
#include "net/common/error.hpp"

namespace netpen::backends {

struct fd_message {
  std::string payload;
  unique_fd fd;  // the first fd the message carried; empty when none
  std::vector<unique_fd> more_fds;  // the others, in order
};

// Sends payload (at most max_message bytes) and, if fd >= 0, a copy of fd.
result<void> send_message(int sock, std::string_view payload, int fd = -1);
// Sends payload with copies of `fds` (at most max_message_fds).
result<void> send_message(int sock, std::string_view payload, std::span<const int> fds);

// Receives one message; an fd that came with it is owned by the result
// (close-on-exec). EOF (the peer exited) is an error with code "peer-gone".
result<fd_message> receive_message(int sock);

inline constexpr std::size_t max_message = 4096;
inline constexpr std::size_t max_message_fds = 64;

}  // namespace netpen::backends
