// SCM_RIGHTS message passing (see fd_passing.hpp).
#include "backends/common/fd_passing.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

namespace netpen::backends {

result<void> send_message(int sock, std::string_view payload, int fd) {
  if (payload.size() > max_message) payload = payload.substr(0, max_message);
  iovec iov{};
  iov.iov_base = const_cast<char*>(payload.data());
  iov.iov_len = payload.size();
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  }
  for (;;) {
    if (::sendmsg(sock, &msg, MSG_NOSIGNAL) >= 0) return {};
    if (errno == EINTR) continue;
    return fail("control-channel", fmt::format("cannot send on the sandbox control channel: {}", std::strerror(errno)));
  }
}

result<fd_message> receive_message(int sock) {
  std::vector<char> buf(max_message);
  iovec iov{};
  iov.iov_base = buf.data();
  iov.iov_len = buf.size();
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n = 0;
  for (;;) {
    n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    if (n >= 0) break;
    if (errno == EINTR) continue;
    return fail("control-channel", fmt::format("cannot read the sandbox control channel: {}", std::strerror(errno)));
  }
  fd_message out;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
      int fd = -1;
      std::memcpy(&fd, CMSG_DATA(c), sizeof(int));
      out.fd.reset(fd);
    }
  }
  if (n == 0 && !out.fd) return fail("peer-gone", "the sandbox process exited unexpectedly");
  out.payload.assign(buf.data(), static_cast<std::size_t>(n));
  return out;
}

}  // namespace netpen::backends
