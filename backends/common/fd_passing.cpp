// SCM_RIGHTS message passing (see fd_passing.hpp).
#include "backends/common/fd_passing.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace netpen::backends {

result<void> send_message(int sock, std::string_view payload, int fd) {
  if (fd < 0) return send_message(sock, payload, std::span<const int>{});
  return send_message(sock, payload, std::span<const int>(&fd, 1));
}

result<void> send_message(int sock, std::string_view payload, std::span<const int> fds) {
  if (payload.size() > max_message || fds.size() > max_message_fds)
    return fail("control-channel", "a message too large for the control channel");
  iovec iov{};
  iov.iov_base = const_cast<char*>(payload.data());
  iov.iov_len = payload.size();
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * max_message_fds)] = {};
  if (!fds.empty()) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  for (;;) {
    if (::sendmsg(sock, &msg, MSG_NOSIGNAL) >= 0) return {};
    if (errno == EINTR) continue;
    return fail("control-channel", fmt::format("cannot send on the control channel: {}", std::strerror(errno)));
  }
}

result<fd_message> receive_message(int sock) {
  std::string buf(max_message, '\0');
  iovec iov{};
  iov.iov_base = buf.data();
  iov.iov_len = buf.size();
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * max_message_fds)] = {};
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n = 0;
  for (;;) {
    n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    if (n >= 0) break;
    if (errno == EINTR) continue;
    return fail("control-channel", fmt::format("cannot read the control channel: {}", std::strerror(errno)));
  }
  fd_message out;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < count; ++i) {
      int fd = -1;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      out.fds.emplace_back(fd);
    }
  }
  if (n == 0 && out.fds.empty()) return fail("peer-gone", "the peer closed the control channel");
  if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) return fail("control-channel", "a truncated control message");
  buf.resize(static_cast<std::size_t>(n));
  out.payload = std::move(buf);
  return out;
}

}  // namespace netpen::backends
