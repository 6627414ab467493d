// Small framed messages over a SOCK_SEQPACKET socketpair, optionally carrying
// one file descriptor (SCM_RIGHTS). The sandbox child uses it to hand the
// parent its tap fd, or a precise error when a setup step failed.
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
  unique_fd fd;  // empty when the message carried none
};

// Sends payload (at most max_message bytes) and, if fd >= 0, a copy of fd.
result<void> send_message(int sock, std::string_view payload, int fd = -1);

// Receives one message; an fd that came with it is owned by the result
// (close-on-exec). EOF (the peer exited) is an error with code "peer-gone".
result<fd_message> receive_message(int sock);

inline constexpr std::size_t max_message = 4096;

// Larger messages with several fds (a persistent sandbox's exec requests:
// argv, environment, and the command's stdin, stdout and stderr).
struct fds_message {
  std::string payload;
  std::vector<unique_fd> fds;
};
inline constexpr std::size_t max_large_message = 256 * 1024;
inline constexpr std::size_t max_message_fds = 4;

// Sends payload (at most max_large_message bytes, else an error) with up to
// max_message_fds fds.
result<void> send_fds(int sock, std::string_view payload, std::span<const int> fds = {});

// Receives one such message (fds close-on-exec). EOF is "peer-gone".
result<fds_message> receive_fds(int sock);

}  // namespace netpen::backends
