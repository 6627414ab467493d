// capture/egress_synth: the frames of the "egress" capture point (the
// tree's flows as they leave the host, with the host's addresses), rebuilt
// from the relay's egress_observer calls. Pure: no I/O, clocks, threads or
// locks; the caller passes the time and serialises the calls (a wrapper
// implementing egress_observer holds the mutex).
//
// Theory of operation. Nothing here is captured: every frame is
// reconstructed from what a host socket reported, as Ethernet II (both MACs
// all-zero, like Linux's lo) carrying IPv4/IPv6, TTL / hop limit 64, every
// checksum and length valid. "local" is the host socket's side, "remote"
// its peer.
//
// TCP (state per socket, keyed by host_conn_hash / host_conn_same, the
// latest host_conn kept since `local` becomes known at connected()):
//  - opened() records the SYN's time only; connected() emits the handshake:
//    SYN local->remote stamped with the opened() time (MSS 1460, or 1440 over
//    IPv6), SYN-ACK remote->local and ACK local->remote stamped now. SYN and
//    SYN-ACK offer window scale 14, and every segment has window 65535, so
//    the advertised window (~1 GiB) keeps Wireshark's analysis quiet although
//    no ACKs but the ones below are shown. Because the SYN is emitted late,
//    frames of different sockets may reach the sink out of timestamp order.
//  - ISNs are deterministic per socket (a hash of protocol, ports and remote
//    address) and differ between the two sides.
//  - data(): PSH|ACK segments in the data's direction, seq advancing, each
//    acking everything the other side sent so far; split so an IP packet
//    stays within 65535 bytes (IPv4 total length / IPv6 payload length). A
//    segment's payload pieces are spans into the caller's buffers.
//  - fin(d): FIN|ACK from that side (one sequence number).
//  - closed(normal): if both sides sent a FIN, the ACK of the second FIN;
//    closed(reset_sent): RST|ACK local->remote; closed(reset_received):
//    RST|ACK remote->local. A socket that never connected gets its SYN
//    (opened() time, c.local as given at close, unspecified if unknown),
//    then for reset_received (refused) the remote's RST|ACK (seq 0, acking
//    the SYN); for normal or reset_sent (timed out, cancelled) nothing more.
//    The socket is always forgotten.
//  - data()/fin() for a socket not connected yet (or never opened) adopt it:
//    the handshake is emitted first (SYN at the opened() time, or now if it
//    was never opened), then the segment. closed() for an unknown socket
//    emits nothing.
// UDP (no state): data() is one datagram local->remote (sent) or
// remote->local (received); one that cannot fit an IP packet is dropped.
// ICMP echo (proto_icmp over IPv4, proto_icmpv6 over IPv6; no state): data()
// is one message from its type byte on, emitted in the data's direction
// with the identifier replaced by c.local_port (as a ping socket does) and
// the checksum recomputed (ICMPv6 over the pseudo-header). The message is
// copied; one shorter than 8 bytes or too long for an IP packet is dropped.
//
// Not shown, because no host socket reports them: the kernels' own ACKs and
// window updates, retransmissions, the MSS-sized segmentation on the real
// wire (segments here are as large as an IP packet allows), SACK,
// timestamps and the real options, ISNs, IP identification and TTLs.
#pragma once
#include <asio/buffer.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "net/packet/frame.hpp"
#include "net/relay/egress_observer.hpp"

namespace netpen::capture {

// Where rebuilt frames go: the frame is the concatenation of `pieces`
// (headers first, then payload spans, not copied), valid during the call.
class synth_sink {
 public:
  virtual ~synth_sink() = default;
  virtual void frame(const relay::host_conn& c, std::uint64_t timestamp_ns,
                     std::span<const std::span<const std::byte>> pieces) = 0;
};

class egress_synth {
 public:
  explicit egress_synth(synth_sink& sink);

  void opened(const relay::host_conn& c, std::uint64_t now_ns);
  void connected(const relay::host_conn& c, std::uint64_t now_ns);
  void data(const relay::host_conn& c, relay::host_direction d, std::span<const asio::const_buffer> buffers,
            std::size_t n, std::uint64_t now_ns);
  void fin(const relay::host_conn& c, relay::host_direction d, std::uint64_t now_ns);
  void closed(const relay::host_conn& c, relay::host_close how, std::uint64_t now_ns);

  // Sockets with state (TCP only): 0 once every socket is closed.
  std::size_t tracked() const { return tcp_.size(); }

 private:
  enum side : std::size_t { local_side = 0, remote_side = 1 };
  static side other(side s) { return s == local_side ? remote_side : local_side; }

  struct tcp_socket {
    relay::host_conn conn;
    std::uint64_t opened_ns = 0;
    bool connected = false;
    std::array<std::uint32_t, 2> next_seq{};  // by side
    std::array<bool, 2> fin_sent{};           // by side
    side last_fin = local_side;               // the side whose FIN came last
  };
  using tcp_map = std::unordered_map<relay::host_conn, tcp_socket, relay::host_conn_hash, relay::host_conn_same>;

  tcp_socket& tcp_find_or_adopt(const relay::host_conn& c, std::uint64_t now_ns);
  void tcp_establish(tcp_socket& s, std::uint64_t now_ns);
  void tcp_segment(tcp_socket& s, side from, std::uint8_t flags, std::uint64_t ts);
  void tcp_control(tcp_socket& s, side from, std::uint8_t flags, std::uint64_t ts);
  void tcp_data(tcp_socket& s, side from, std::span<const asio::const_buffer> buffers, std::size_t n,
                std::uint64_t now_ns);
  void tcp_closed(tcp_socket& s, relay::host_close how, std::uint64_t now_ns);
  void udp_datagram(const relay::host_conn& c, side from, std::span<const asio::const_buffer> buffers,
                    std::size_t n, std::uint64_t now_ns);
  void icmp_echo(const relay::host_conn& c, side from, std::span<const asio::const_buffer> buffers, std::size_t n,
                 std::uint64_t now_ns);
  void emit(const relay::host_conn& c, std::uint64_t ts, std::size_t header_size);

  synth_sink& sink_;
  tcp_map tcp_;
  // Scratch reused across calls: the header, the pieces handed to the sink
  // (pieces_[0] is the header), and an ICMP message's copy.
  std::array<std::byte, packet::max_header_size> header_{};
  std::vector<std::span<const std::byte>> pieces_;
  std::vector<std::byte> icmp_message_;
};

}  // namespace netpen::capture
