// One relayed UDP flow (a 5-tuple from the child): a connected host UDP
// socket carrying datagrams both ways for as long as the flow is used. The
// lifecycle (open, receive loop, idle expiry, shutdown, events) is the
// datagram_flow base's.
//
// Theory of operation. All work runs on the flow's strand.
//   - send(): a datagram from the child goes out of the host socket with the
//     child's TTL / hop limit copied (so traceroute-style probes expire where
//     they would have). The socket is non-blocking: if its send buffer is
//     full the datagram is dropped, as a router would.
//   - receive loop: every datagram from the far end goes back to the child
//     from the flow's destination address and port.
//   - errors: with IP_RECVERR / IPV6_RECVERR the kernel queues every ICMP
//     error for the flow with the hop that sent it; the flow hands each to
//     the child from that hop, quoting the child's last datagram (traceroute
//     sees the real routers; a closed port fails at once).
//   - QUIC (UDP to port 443, udp_flow_quic.cpp). Judged by claim (the engine
//     starts it deferred): the child's first datagrams are held (at most
//     quic_sniffer::max_datagrams) and fed to a quic_sniffer until it is
//     done or quic_claim_wait has passed since the first one; judge_claim
//     decides (an empty claim: by address). Allowed, the socket opens and
//     the held datagrams leave in order; refused, a denied event, and every
//     datagram of the flow gets ICMP administratively prohibited from the
//     gateway until the flow goes idle. Otherwise, while observing, the
//     first datagrams are sniffed passively into the record's claim.
#pragma once
#include <asio/ip/udp.hpp>

#include <optional>
#include <vector>

#include "net/relay/datagram_flow.hpp"
#include "net/relay/packet_pool.hpp"
#include "net/sniff/quic_sniffer.hpp"

namespace netpen::relay {

class udp_flow final : public datagram_flow {
 public:
  // by_claim: a QUIC flow judged by claim (start it with start_deferred()).
  udp_flow(flow_context& ctx, asio::strand<asio::any_io_executor> strand, const flow_key& key,
           const udp_idle_expiry& expiry, flow_record verdict, done_fn on_done, bool by_claim = false);

  // A datagram from the child (payload inside `buf`), with its TTL, and the
  // child's whole IP packet for quoting in ICMP errors.
  void send(packet_buffer buf, std::span<const std::byte> payload, std::span<const std::byte> ip_packet,
            std::uint8_t ttl);

 private:
  bool open_socket() override;
  asio::awaitable<void> receive_loop() override;
  void close_socket() override;
  int socket_fd() override { return socket_.native_handle(); }
  void send_now(std::span<const std::byte> payload, std::span<const std::byte> ip_packet, std::uint8_t ttl);
  void transmit(std::span<const std::byte> payload, std::span<const std::byte> ip_packet, std::uint8_t ttl);
  bool report_errors(const asio::error_code& ec);
  // QUIC (udp_flow_quic.cpp).
  asio::awaitable<bool> admit() override;
  void after_open() override;
  // A datagram while the verdict is pending (held) or after a refusal (ICMP).
  bool held_or_refused(std::span<const std::byte> payload, std::span<const std::byte> ip_packet, std::uint8_t ttl);
  void sniff(std::span<const std::byte> payload);

  struct held_datagram {
    std::vector<std::byte> payload, ip_packet;
    std::uint8_t ttl;
  };
  asio::ip::udp::socket socket_;
  std::vector<std::byte> last_packet_;  // the child's last IP packet (for ICMP quotes)
  std::optional<sniff::quic_sniffer> sniffer_;  // until done (UDP/443: by claim, or observing)
  bool pending_ = false;   // judged by claim, verdict not yet known: datagrams are held
  bool refused_ = false;   // judged by claim and refused
  std::vector<held_datagram> held_;
  asio::steady_timer held_changed_;  // wakes admit() when a datagram was held
};

}  // namespace netpen::relay
