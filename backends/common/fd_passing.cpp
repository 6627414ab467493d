// SCM_RIGHTS message passing (see fd_passing.hpp).
#include "backends/common/fd_passing.hpp"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
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

namespace {

// The length of the next message, waiting for one: a peek that copies
// nothing (MSG_TRUNC reports a SOCK_SEQPACKET message's full length; no
// control buffer, so no fd is installed). Sizing the buffer to it keeps a
// short message from zero-filling max_message bytes: 64 pages, each a page
// fault (~20 µs on a PVM guest), on every message of the start-up.
result<std::size_t> next_message_size(int sock) {
  for (;;) {
    msghdr msg{};
    const ssize_t n = ::recvmsg(sock, &msg, MSG_PEEK | MSG_TRUNC);
    if (n >= 0) return std::min(static_cast<std::size_t>(n), max_message);
    if (errno == EINTR) continue;
    return fail("control-channel", fmt::format("cannot read the control channel: {}", std::strerror(errno)));
  }
}

}  // namespace

result<fd_message> receive_message(int sock) {
  auto size = next_message_size(sock);
  if (!size) return unexpected(size.error());
  std::string buf(*size, '\0');  // a longer message than peeked (or than max_message) shows as MSG_TRUNC
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
