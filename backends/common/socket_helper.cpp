// See socket_helper.hpp.
#include "backends/common/socket_helper.hpp"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include "backends/common/fd_passing.hpp"

namespace netpen::backends {
namespace {

// The request names the socket: "tcp4", "tcp6", "udp4", "udp6".
std::string_view request_name(int family, int type) {
  if (type == SOCK_DGRAM) return family == AF_INET6 ? "udp6" : "udp4";
  return family == AF_INET6 ? "tcp6" : "tcp4";
}

constexpr std::string_view answer_ok = "ok";
constexpr std::string_view answer_failed = "failed";
}  // namespace

void serve_sandbox_sockets(int channel_fd) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  ::prctl(PR_SET_NAME, "netpen-sockets", 0, 0, 0);
  for (;;) {
    auto m = receive_message(channel_fd);
    if (!m) ::_exit(0);
    const std::string_view what = m->payload;
    const bool known = what == "tcp4" || what == "tcp6" || what == "udp4" || what == "udp6";
    const int family = what.ends_with('6') ? AF_INET6 : AF_INET;
    const int type = what.starts_with("udp") ? SOCK_DGRAM : SOCK_STREAM;
    const int fd = known ? ::socket(family, type | SOCK_CLOEXEC, 0) : -1;
    (void)send_message(channel_fd, fd >= 0 ? answer_ok : answer_failed, fd);
    if (fd >= 0) ::close(fd);
  }
}

socket_requester::socket_requester(unique_fd channel) : channel_(std::move(channel)) {
  timeval limit{2, 0};  // the helper answers at once; never hang a relay thread on it
  ::setsockopt(channel_.get(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  ::setsockopt(channel_.get(), SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
}

int socket_requester::request(int family, int type) {
  std::lock_guard lock(mu_);
  if (channel_.get() < 0) {
    errno = ENOTSUP;
    return -1;
  }
  if (!send_message(channel_.get(), request_name(family, type))) return -1;
  auto m = receive_message(channel_.get());
  if (!m) {
    channel_.reset();  // no answer in time: a late one must not answer the next request
    errno = EIO;
    return -1;
  }
  unique_fd socket = m->take_first();
  if (m->payload != answer_ok || !socket) {
    errno = EIO;
    return -1;
  }
  return socket.release();
}

}  // namespace netpen::backends
