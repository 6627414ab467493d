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
//   - Lifecycle, idle expiry and events as for UDP flows (datagram_flow).
#pragma once
#include <asio/posix/stream_descriptor.hpp>

#include <deque>
#include <vector>

#include "net/relay/datagram_flow.hpp"

namespace netpen::relay {

class icmp_echo_flow final : public datagram_flow {
 public:
  // key: protocol ICMP/ICMPv6, src/dst addresses, src_port = the child's identifier.
  icmp_echo_flow(flow_context& ctx, asio::strand<asio::any_io_executor> strand, const flow_key& key,
                 const udp_idle_expiry& expiry, flow_record verdict, done_fn on_done);

  // An echo request from the child; `ip_packet` is its whole IP packet (kept
  // for quoting in ICMP errors, e.g. Time Exceeded for traceroute -I).
  void send(std::uint16_t seq, std::vector<std::byte> payload, std::vector<std::byte> ip_packet, std::uint8_t ttl);

 private:
  bool open_socket() override;
  asio::awaitable<void> receive_loop() override;
  void close_socket() override;
  int socket_fd() override { return socket_.native_handle(); }
  void send_now(std::uint16_t seq, const std::vector<std::byte>& payload, std::vector<std::byte> ip_packet,
                std::uint8_t ttl);
  void on_datagram(std::span<const std::byte> data);
  bool report_errors();

  asio::posix::stream_descriptor socket_;
  bool raw_ = false;
  // The child's recent requests by sequence number, to quote the right one
  // when an error comes back (traceroute -I has many probes in flight).
  std::deque<std::pair<std::uint16_t, std::vector<std::byte>>> recent_;
};

}  // namespace netpen::relay
