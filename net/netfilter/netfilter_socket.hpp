// NETLINK_NETFILTER sockets: one bound to an NFQUEUE queue (copy-packet
// mode, waits for the kernel's ACKs), one subscribed to conntrack events,
// one bound to an NFLOG group (copy-packet mode, waits for the ACKs).
// Both are non-blocking and close-on-exec, and live in the network namespace
// of the thread that opens them. drain() reads what is queued without
// blocking; callers wait for readability themselves (e.g. asio).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "net/common/error.hpp"
#include "net/netfilter/nfqueue_codec.hpp"

struct nlmsghdr;
struct mnl_socket;

namespace netpen::netfilter {

struct drain_stats {
  std::size_t messages = 0;  // nlmsghdrs handed to on_message
  bool overrun = false;      // the kernel dropped messages (ENOBUFS) or one was cut (too big)
};

class netlink_socket {
 public:
  // Binds `queue`, copies up to copy_range bytes of each packet, limits the
  // queue to queue_maxlen packets. Open it before traffic can reach the
  // queue. Errors: code "nfqueue" (another socket holds the queue or no
  // CAP_NET_ADMIN: the kernel says EPERM for both; no nfnetlink_queue).
  static result<netlink_socket> open_queue(std::uint16_t queue, std::uint32_t copy_range,
                                           std::uint32_t queue_maxlen = default_queue_maxlen);
  // Subscribes to NFNLGRP_CONNTRACK_NEW/UPDATE/DESTROY (without `updates`:
  // NEW and DESTROY only) with a large receive buffer; a full buffer shows
  // up as drain_stats::overrun (events lost). Errors: code "conntrack-events".
  static result<netlink_socket> open_conntrack_events(bool updates = true);
  // Binds NFLOG `group` (nft `log group N` rules send their packets there) in
  // copy-packet mode, see build_log_params. Errors: code "nflog-busy"
  // (another socket holds the group: the kernel says EPERM, as it does
  // without CAP_NET_ADMIN), code "nflog" (anything else, e.g. no
  // nfnetlink_log).
  static result<netlink_socket> open_log(std::uint16_t group, std::uint32_t copy_range = 0);

  netlink_socket(netlink_socket&& o) noexcept;
  netlink_socket& operator=(netlink_socket&& o) noexcept;
  netlink_socket(const netlink_socket&) = delete;
  netlink_socket& operator=(const netlink_socket&) = delete;
  ~netlink_socket();

  int fd() const;
  std::uint32_t portid() const { return portid_; }

  // Reads up to max_datagrams queued datagrams without blocking and calls
  // on_message for each netlink message from the kernel in them (including
  // NLMSG_ERROR answers, see ack_error). Stops early when nothing is left.
  // A message (and a parsed packet's payload span) is valid only during its
  // on_message call. Only a broken socket is an error (code "netlink").
  result<drain_stats> drain(const std::function<void(const nlmsghdr*)>& on_message,
                            std::size_t max_datagrams = 256);
  // Sends one message (a verdict, a flush request). Error code "netlink".
  result<void> send(const nlmsghdr* nlh);

 private:
  netlink_socket(mnl_socket* s, std::size_t rx_size);
  // Sends a request with NLM_F_ACK and waits (bounded) for its answer: 0 for
  // an ACK, else the errno.
  int ask(const nlmsghdr* nlh);
  mnl_socket* sock_ = nullptr;
  std::uint32_t portid_ = 0;
  std::vector<char> rx_;
};

}  // namespace netpen::netfilter
