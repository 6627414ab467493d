// Small framed messages over a SOCK_SEQPACKET socketpair, optionally carrying
// one file descriptor (SCM_RIGHTS). The sandbox child uses it to hand the
// parent its tap fd, or a precise error when a setup step failed.
#pragma once
#include <string>
#include <string_view>

#include "backends/common/unique_fd.hpp"
#include "net/common/error.hpp"

namespace netpen::backends {

struct fd_message {
  std::string payload;
  unique_fd fd;  // empty when the message carried none
};

// Sends payload (at most max_message bytes) and, if fd >= 0, a copy of fd.
result<void> send_message(int sock, std::string_view payload, int fd = -1);

// Receives one message; an fd that came with it is owned by the result
// (close-on-exec). EOF (the peer exited) is an error with code "peer-gone".
result<fd_message> receive_message(int sock);

inline constexpr std::size_t max_message = 4096;

}  // namespace netpen::backends
