// Framed messages over a SOCK_SEQPACKET socket, each optionally carrying
// file descriptors (SCM_RIGHTS, at most max_message_fds a message). Used by
// every control channel: the sandbox init hands the parent its tap fd, its
// --host-port listeners or a precise setup error; the socket helper hands
// out sockets made inside; a persistent sandbox's daemon, its init and the
// exec clients pass requests with the command's stdin, stdout and stderr.
#pragma once
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "backends/common/unique_fd.hpp"
#include "net/common/error.hpp"

namespace netpen::backends {

inline constexpr std::size_t max_message = 256 * 1024;  // an exec request's argv and environment fit
inline constexpr std::size_t max_message_fds = 64;

struct fd_message {
  std::string payload;
  std::vector<unique_fd> fds;  // in the order they were sent

  // The first fd (moved out), or an empty one when the message carried none.
  unique_fd take_first() { return fds.empty() ? unique_fd{} : std::move(fds.front()); }
};

// Sends payload (at most max_message bytes) with copies of `fds` (at most
// max_message_fds); a larger message is an error, never cut.
result<void> send_message(int sock, std::string_view payload, std::span<const int> fds = {});
// The same with one fd (none when fd < 0).
result<void> send_message(int sock, std::string_view payload, int fd);

// Receives one message; the fds that came with it are owned by the result
// (close-on-exec). EOF (the peer exited) is an error with code "peer-gone";
// a truncated message is an error too.
result<fd_message> receive_message(int sock);

}  // namespace netpen::backends
