// NETLINK_NETFILTER socket setup, batch receive and send (see
// netfilter_socket.hpp).
#include "net/netfilter/netfilter_socket.hpp"

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "net/netfilter/netlink_attrs.hpp"
#include "net/netfilter/nflog_codec.hpp"

namespace netpen::netfilter {
namespace {

constexpr std::size_t max_copy_range = 0xffff;  // NFQNL_MAX_COPY_RANGE
constexpr std::size_t message_slack = 4096;     // headers and metadata attributes around a packet
constexpr std::size_t conntrack_rx_size = 16384;
constexpr std::size_t log_rx_size = 0x10000 + message_slack;  // one packet of the largest copy range
constexpr int log_rcvbuf = 8 << 20;
constexpr int queue_rcvbuf = 4 << 20;
constexpr int conntrack_rcvbuf = 8 << 20;
constexpr auto ack_timeout = std::chrono::seconds(2);

enum class recv_status { message, empty, lost, failed };

// One datagram from the kernel (other senders are ignored), without blocking.
recv_status receive(int fd, std::vector<char>& rx, std::size_t& len) {
  for (;;) {
    sockaddr_nl from{};
    iovec iov{rx.data(), rx.size()};
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    const ssize_t n = ::recvmsg(fd, &msg, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return recv_status::empty;
      if (errno == ENOBUFS) return recv_status::lost;
      return recv_status::failed;
    }
    if ((msg.msg_flags & MSG_TRUNC) != 0) return recv_status::lost;
    if (msg.msg_namelen != sizeof from || from.nl_pid != 0) continue;
    len = static_cast<std::size_t>(n);
    return recv_status::message;
  }
}

// Calls f for each complete netlink message in rx[0, len).
template <class F>
std::size_t for_each_message(const std::vector<char>& rx, std::size_t len, F&& f) {
  std::size_t count = 0;
  int left = static_cast<int>(len);
  for (auto* nlh = reinterpret_cast<const nlmsghdr*>(rx.data()); message_fits(nlh, left);
       nlh = mnl_nlmsg_next(nlh, &left)) {
    ++count;
    f(nlh);
  }
  return count;
}

// Waits (bounded) for the kernel's answer to request `seq`: 0 for an ACK,
// else the errno it reported (ETIMEDOUT when none came).
int wait_ack(int fd, std::vector<char>& rx, std::uint32_t seq) {
  const auto deadline = std::chrono::steady_clock::now() + ack_timeout;
  for (;;) {
    std::size_t len = 0;
    const recv_status st = receive(fd, rx, len);
    if (st == recv_status::failed) return errno;
    if (st == recv_status::message) {
      std::optional<int> answer;
      for_each_message(rx, len, [&](const nlmsghdr* nlh) {
        if (nlh->nlmsg_seq == seq && !answer) answer = ack_error(nlh);
      });
      if (answer) return *answer;
      continue;
    }
    if (st == recv_status::lost) continue;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return ETIMEDOUT;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) < 0 && errno != EINTR) return errno;
  }
}

void enlarge_rcvbuf(int fd, int bytes) {
  // SO_RCVBUFFORCE ignores net.core.rmem_max but needs CAP_NET_ADMIN.
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0)
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
}

// A NETLINK_NETFILTER socket bound to `groups`, or errno.
mnl_socket* open_bound(unsigned groups, int& err) {
  mnl_socket* s = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (s == nullptr) {
    err = errno;
    return nullptr;
  }
  if (mnl_socket_bind(s, groups, MNL_SOCKET_AUTOPID) < 0) {
    err = errno;
    mnl_socket_close(s);
    return nullptr;
  }
  return s;
}

std::string queue_failure(std::uint16_t queue, const char* step, int err) {
  const char* why = std::strerror(err);
  // The kernel answers EPERM both when another socket holds the queue and
  // when the sender lacks CAP_NET_ADMIN.
  if (err == EPERM || err == EBUSY)
    return fmt::format("{} NFQUEUE {} was refused ({}): another program has bound it, or CAP_NET_ADMIN is missing "
                       "in this network namespace",
                       step, queue, why);
  if (err == EOPNOTSUPP || err == ENOENT || err == EINVAL || err == EPROTONOSUPPORT)
    return fmt::format("{} NFQUEUE {} failed ({}): is the kernel's nfnetlink_queue available?", step, queue, why);
  return fmt::format("{} NFQUEUE {} failed: {}", step, queue, why);
}

}  // namespace

netlink_socket::netlink_socket(mnl_socket* s, std::size_t rx_size)
    : sock_(s), portid_(mnl_socket_get_portid(s)), rx_(rx_size) {}

netlink_socket::netlink_socket(netlink_socket&& o) noexcept
    : sock_(std::exchange(o.sock_, nullptr)), portid_(o.portid_), rx_(std::move(o.rx_)) {}

netlink_socket& netlink_socket::operator=(netlink_socket&& o) noexcept {
  if (this != &o) {
    if (sock_ != nullptr) mnl_socket_close(sock_);
    sock_ = std::exchange(o.sock_, nullptr);
    portid_ = o.portid_;
    rx_ = std::move(o.rx_);
  }
  return *this;
}

netlink_socket::~netlink_socket() {
  if (sock_ != nullptr) mnl_socket_close(sock_);
}

int netlink_socket::ask(const nlmsghdr* nlh) {
  if (mnl_socket_sendto(sock_, nlh, nlh->nlmsg_len) < 0) return errno;
  return wait_ack(fd(), rx_, nlh->nlmsg_seq);
}

int netlink_socket::fd() const { return sock_ != nullptr ? mnl_socket_get_fd(sock_) : -1; }

result<netlink_socket> netlink_socket::open_queue(std::uint16_t queue, std::uint32_t copy_range,
                                                  std::uint32_t queue_maxlen) {
  int err = 0;
  mnl_socket* s = open_bound(0, err);
  if (s == nullptr) return fail("nfqueue", queue_failure(queue, "opening a netlink socket for", err));
  const std::size_t range = copy_range == 0 || copy_range > max_copy_range ? max_copy_range : copy_range;
  netlink_socket sock(s, range + message_slack);
  enlarge_rcvbuf(sock.fd(), queue_rcvbuf);

  // Bind first (refused if another socket holds the queue), then switch to
  // copy-packet mode.
  std::vector<char> tx(request_buffer_size);
  const auto request = [&](const char* step, const nlmsghdr* nlh) -> result<void> {
    if (const int e = sock.ask(nlh); e != 0) return fail("nfqueue", queue_failure(queue, step, e));
    return {};
  };
  if (auto r = request("binding", build_queue_bind(tx.data(), 1, queue)); !r) return unexpected(r.error());
  if (auto r = request("configuring", build_queue_params(tx.data(), 2, queue, copy_range, queue_maxlen)); !r)
    return unexpected(r.error());
  return sock;
}

result<netlink_socket> netlink_socket::open_conntrack_events(bool updates) {
  const unsigned groups = (1U << (NFNLGRP_CONNTRACK_NEW - 1)) | (updates ? 1U << (NFNLGRP_CONNTRACK_UPDATE - 1) : 0U) |
                          (1U << (NFNLGRP_CONNTRACK_DESTROY - 1));
  int err = 0;
  mnl_socket* s = open_bound(groups, err);
  if (s == nullptr) {
    if (err == EPERM)
      return fail("conntrack-events", "subscribing to conntrack events needs CAP_NET_ADMIN in this network namespace");
    return fail("conntrack-events", fmt::format("cannot subscribe to conntrack events: {}", std::strerror(err)));
  }
  netlink_socket sock(s, conntrack_rx_size);
  enlarge_rcvbuf(sock.fd(), conntrack_rcvbuf);
  return sock;
}

result<netlink_socket> netlink_socket::open_log(std::uint16_t group, std::uint32_t copy_range) {
  int err = 0;
  mnl_socket* s = open_bound(0, err);
  if (s == nullptr)
    return fail("nflog", fmt::format("opening a netlink socket for NFLOG group {} failed: {}", group, std::strerror(err)));
  netlink_socket sock(s, log_rx_size);
  enlarge_rcvbuf(sock.fd(), log_rcvbuf);
  std::vector<char> tx(request_buffer_size);
  const auto request = [&](const char* step, const nlmsghdr* nlh) -> result<void> {
    const int e = sock.ask(nlh);
    if (e == 0) return {};
    if (e == EPERM || e == EBUSY)
      return fail("nflog-busy", fmt::format("{} NFLOG group {} was refused ({}): another program has bound it, or "
                                            "CAP_NET_ADMIN is missing",
                                            step, group, std::strerror(e)));
    return fail("nflog", fmt::format("{} NFLOG group {} failed ({}): is the kernel's nfnetlink_log available?", step,
                                     group, std::strerror(e)));
  };
  if (auto r = request("binding", build_log_bind(tx.data(), 1, group)); !r) return unexpected(r.error());
  if (auto r = request("configuring", build_log_params(tx.data(), 2, group, copy_range)); !r)
    return unexpected(r.error());
  return sock;
}

result<drain_stats> netlink_socket::drain(const std::function<void(const nlmsghdr*)>& on_message,
                                          std::size_t max_datagrams) {
  drain_stats stats;
  for (std::size_t i = 0; i < max_datagrams; ++i) {
    std::size_t len = 0;
    switch (receive(fd(), rx_, len)) {
      case recv_status::empty: return stats;
      case recv_status::lost: stats.overrun = true; continue;
      case recv_status::failed:
        return fail("netlink", fmt::format("reading a netfilter netlink socket failed: {}", std::strerror(errno)));
      case recv_status::message: stats.messages += for_each_message(rx_, len, on_message); break;
    }
  }
  return stats;
}

result<void> netlink_socket::send(const nlmsghdr* nlh) {
  for (;;) {
    if (mnl_socket_sendto(sock_, nlh, nlh->nlmsg_len) >= 0) return {};
    if (errno != EINTR)
      return fail("netlink", fmt::format("sending to a netfilter netlink socket failed: {}", std::strerror(errno)));
  }
}

}  // namespace netpen::netfilter
