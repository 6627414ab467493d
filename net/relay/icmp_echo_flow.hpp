// One relayed ping "flow": the child's echo requests to one destination with
// one identifier, sent from a host socket and answered back to the child.
//
// Theory of operation. All work runs on the flow's strand.
//   - The host socket is an unprivileged ICMP ("ping") socket where the host
//     allows it (net.ipv4.ping_group_range covers netpen's group), else a raw
//     ICMP socket (root). Either is connected to the destination.
//   - A ping socket owns its identifier: the kernel rewrites the child's
//     identifier and delivers only replies to it, so replies get the child's
//     identifier back. A raw socket sees every ICMP message the host gets:
//     replies are matched on type and identifier (IPv4 raw reads include the
//     IP header, which is skipped).
//   - The child's TTL / hop limit is copied onto the socket; with IP_RECVERR
//     the errors that come back (a router's Time Exceeded: traceroute -I)
//     are handed to the child from the hop that sent them.
//   - Idle expiry as for UDP flows (udp_flow_policy).
#pragma once
#include <asio/awaitable.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>

#include <atomic>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "net/relay/datagram_egress.hpp"
#include "net/relay/flow_key.hpp"
#include "net/relay/flow_record.hpp"
#include "net/relay/socket_errors.hpp"
#include "net/relay/udp_flow_policy.hpp"

namespace netpen::relay {

class engine;

class icmp_echo_flow : public std::enable_shared_from_this<icmp_echo_flow> {
 public:
  // key: protocol ICMP/ICMPv6, src/dst addresses, src_port = the child's identifier.
  icmp_echo_flow(engine& eng, asio::strand<asio::any_io_executor> strand, const flow_key& key,
                 const udp_flow_policy& policy);

  void start();
  // An echo request from the child; `ip_packet` is its whole IP packet (kept
  // for quoting in ICMP errors, e.g. Time Exceeded for traceroute -I).
  void send(std::uint16_t seq, std::vector<std::byte> payload, std::vector<std::byte> ip_packet, std::uint8_t ttl);
  void shutdown();
  bool finished() const { return finished_.load(std::memory_order_acquire); }

 private:
  asio::awaitable<void> run();
  asio::awaitable<void> receive_loop();
  asio::awaitable<void> watchdog();
  bool open_socket();
  void on_datagram(std::span<const std::byte> data);
  void set_ttl(std::uint8_t ttl);
  bool report_errors();

  engine& engine_;
  asio::strand<asio::any_io_executor> strand_;
  flow_key key_;
  udp_flow_policy policy_;
  asio::posix::stream_descriptor socket_;
  asio::steady_timer idle_timer_;
  bool raw_ = false;
  bool opened_ = false;
  std::optional<icmp_report> open_error_;  // why the host socket could not connect
  bool closed_ = false;
  bool got_reply_ = false;
  flow_record record_;
  datagram_egress egress_;  // the host socket as the egress capture sees it
  int current_ttl_ = -1;
  // The child's recent requests by sequence number, to quote the right one
  // when an error comes back (traceroute -I has many probes in flight).
  std::deque<std::pair<std::uint16_t, std::vector<std::byte>>> recent_;
  udp_flow_policy::clock::time_point last_activity_;
  std::atomic<bool> finished_{false};
};

}  // namespace netpen::relay
