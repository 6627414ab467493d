// egress_synth: per-socket TCP sequence state and the frame builders for the
// egress capture point's reconstructed TCP segments, UDP datagrams and ICMP
// echo messages (see the header's theory of operation).
#include "capture/egress_synth.hpp"

#include <algorithm>
#include <limits>

#include "net/packet/ip_header.hpp"

namespace netpen::capture {
namespace {

using piece = std::span<const std::byte>;
namespace flag = packet::tcp_flag;

constexpr std::uint16_t window = 65535;
constexpr std::uint8_t window_scale = 14;
constexpr std::uint16_t mss_v4 = 1460;
constexpr std::uint16_t mss_v6 = 1440;
constexpr std::size_t tcp_header_size = 20;  // data segments carry no options
constexpr std::size_t udp_header_size = 8;
constexpr std::size_t icmp_header_size = 8;
constexpr std::uint32_t remote_isn_tweak = 0x5bd1e995u;

// The most L4 bytes one IP packet carries (IPv4 total length and IPv6
// payload length are both 16 bits).
std::size_t max_l4(bool v6) { return packet::max_ip_length - (v6 ? 0 : packet::ipv4_header_size); }

bool unspecified(const packet::ip_address& a) {
  return std::all_of(a.bytes.begin(), a.bytes.end(), [](std::uint8_t b) { return b == 0; });
}

// The socket's local address, or the unspecified address of the remote's
// family when it is not known (a default ip_address is IPv4).
packet::ip_address local_address(const relay::host_conn& c) {
  if (c.local.v6 == c.remote.v6) return c.local;
  packet::ip_address any;
  any.v6 = c.remote.v6;
  return any;
}

// Keeps the newest host_conn without losing a local address already known.
void remember(relay::host_conn& kept, const relay::host_conn& c) {
  const packet::ip_address local = kept.local;
  kept = c;
  if (unspecified(c.local)) kept.local = local;
}

// Walks the first `n` bytes of a buffer sequence as spans, without copying.
class buffer_cursor {
 public:
  buffer_cursor(std::span<const asio::const_buffer> buffers, std::size_t n) : buffers_(buffers), left_(n) {}

  // Appends pieces covering up to `max` more bytes to `out`; returns how many.
  std::size_t take(std::size_t max, std::vector<piece>& out) {
    std::size_t taken = 0;
    while (taken < max && left_ > 0 && index_ < buffers_.size()) {
      const auto& b = buffers_[index_];
      const std::size_t k = std::min({b.size() - offset_, max - taken, left_});
      if (k > 0) out.emplace_back(static_cast<const std::byte*>(b.data()) + offset_, k);
      offset_ += k;
      taken += k;
      left_ -= k;
      if (offset_ == b.size()) {
        ++index_;
        offset_ = 0;
      }
    }
    return taken;
  }

 private:
  std::span<const asio::const_buffer> buffers_;
  std::size_t left_;
  std::size_t index_ = 0, offset_ = 0;
};

// Source and destination of a packet sent by `local` (or by the remote).
struct oriented {
  packet::ip_address src, dst;
  std::uint16_t src_port, dst_port;
};
oriented orient(const relay::host_conn& c, bool from_local) {
  if (from_local) return {local_address(c), c.remote, c.local_port, c.remote_port};
  return {c.remote, local_address(c), c.remote_port, c.local_port};
}

std::size_t total_size(std::span<const asio::const_buffer> buffers, std::size_t n) {
  std::size_t total = 0;
  for (const auto& b : buffers) total += b.size();
  return std::min(total, n);
}

}  // namespace

egress_synth::egress_synth(synth_sink& sink) : sink_(sink) {}

void egress_synth::opened(const relay::host_conn& c, std::uint64_t now_ns) {
  if (c.protocol != packet::proto_tcp) return;
  tcp_.erase(c);  // a stale socket with the same identity (no closed() seen)
  tcp_find_or_adopt(c, now_ns);
}

void egress_synth::connected(const relay::host_conn& c, std::uint64_t now_ns) {
  if (c.protocol != packet::proto_tcp) return;
  tcp_establish(tcp_find_or_adopt(c, now_ns), now_ns);
}

void egress_synth::data(const relay::host_conn& c, relay::host_direction d,
                        std::span<const asio::const_buffer> buffers, std::size_t n, std::uint64_t now_ns) {
  const side from = d == relay::host_direction::sent ? local_side : remote_side;
  switch (c.protocol) {
    case packet::proto_tcp: {
      tcp_socket& s = tcp_find_or_adopt(c, now_ns);
      tcp_establish(s, now_ns);
      tcp_data(s, from, buffers, n, now_ns);
      break;
    }
    case packet::proto_udp:
      udp_datagram(c, from, buffers, n, now_ns);
      break;
    case packet::proto_icmp:
    case packet::proto_icmpv6:
      icmp_echo(c, from, buffers, n, now_ns);
      break;
    default:
      break;
  }
}

void egress_synth::fin(const relay::host_conn& c, relay::host_direction d, std::uint64_t now_ns) {
  if (c.protocol != packet::proto_tcp) return;
  tcp_socket& s = tcp_find_or_adopt(c, now_ns);
  tcp_establish(s, now_ns);
  const side from = d == relay::host_direction::sent ? local_side : remote_side;
  if (s.fin_sent[from]) return;
  tcp_control(s, from, flag::fin | flag::ack, now_ns);
  s.fin_sent[from] = true;
  s.last_fin = from;
}

void egress_synth::closed(const relay::host_conn& c, relay::host_close how, std::uint64_t now_ns) {
  if (c.protocol != packet::proto_tcp) return;
  const auto it = tcp_.find(c);
  if (it == tcp_.end()) return;
  remember(it->second.conn, c);
  tcp_closed(it->second, how, now_ns);
  tcp_.erase(it);
}

egress_synth::tcp_socket& egress_synth::tcp_find_or_adopt(const relay::host_conn& c, std::uint64_t now_ns) {
  const auto it = tcp_.find(c);
  if (it != tcp_.end()) {
    remember(it->second.conn, c);
    return it->second;
  }
  tcp_socket s;
  s.conn = c;
  s.opened_ns = now_ns;
  // Deterministic per socket, and never the same for both sides.
  const std::size_t h = relay::host_conn_hash{}(c);
  s.next_seq[local_side] = static_cast<std::uint32_t>(h ^ (std::uint64_t{h} >> 32));
  s.next_seq[remote_side] = s.next_seq[local_side] ^ remote_isn_tweak;
  return tcp_.emplace(c, s).first->second;
}

void egress_synth::tcp_establish(tcp_socket& s, std::uint64_t now_ns) {
  if (s.connected) return;
  s.connected = true;
  tcp_control(s, local_side, flag::syn, s.opened_ns);
  tcp_control(s, remote_side, flag::syn | flag::ack, now_ns);
  tcp_control(s, local_side, flag::ack, now_ns);
}

void egress_synth::tcp_data(tcp_socket& s, side from, std::span<const asio::const_buffer> buffers, std::size_t n,
                            std::uint64_t now_ns) {
  if (s.fin_sent[from]) return;  // nothing follows a FIN
  const std::size_t max_payload = max_l4(s.conn.remote.v6) - tcp_header_size;
  buffer_cursor cursor(buffers, n);
  for (;;) {
    pieces_.assign(1, piece{});
    if (cursor.take(max_payload, pieces_) == 0) return;
    tcp_segment(s, from, flag::psh | flag::ack, now_ns);
  }
}

void egress_synth::tcp_closed(tcp_socket& s, relay::host_close how, std::uint64_t now_ns) {
  if (!s.connected) {
    tcp_control(s, local_side, flag::syn, s.opened_ns);
    if (how == relay::host_close::reset_received) {
      s.next_seq[remote_side] = 0;  // a refusal's RST answers a segment without ACK: seq 0
      tcp_control(s, remote_side, flag::rst | flag::ack, now_ns);
    }
    return;
  }
  switch (how) {
    case relay::host_close::normal:
      if (s.fin_sent[local_side] && s.fin_sent[remote_side]) tcp_control(s, other(s.last_fin), flag::ack, now_ns);
      break;
    case relay::host_close::reset_sent:
      tcp_control(s, local_side, flag::rst | flag::ack, now_ns);
      break;
    case relay::host_close::reset_received:
      tcp_control(s, remote_side, flag::rst | flag::ack, now_ns);
      break;
  }
}

void egress_synth::tcp_control(tcp_socket& s, side from, std::uint8_t flags, std::uint64_t ts) {
  pieces_.assign(1, piece{});
  tcp_segment(s, from, flags, ts);
}

// One segment whose payload is pieces_[1..]; advances the sender's sequence.
void egress_synth::tcp_segment(tcp_socket& s, side from, std::uint8_t flags, std::uint64_t ts) {
  const auto payload = std::span<const piece>(pieces_).subspan(1);
  std::size_t len = 0;
  for (const auto& p : payload) len += p.size();
  const relay::host_conn& c = s.conn;
  const bool syn = (flags & flag::syn) != 0;

  const oriented o = orient(c, from == local_side);
  packet::tcp_segment_spec spec;
  spec.src = o.src;
  spec.dst = o.dst;
  spec.src_port = o.src_port;
  spec.dst_port = o.dst_port;
  spec.seq = s.next_seq[from];
  spec.ack = (flags & flag::ack) != 0 ? s.next_seq[other(from)] : 0;
  spec.flags = flags;
  spec.window = window;
  if (syn) {
    spec.mss = c.remote.v6 ? mss_v6 : mss_v4;
    spec.wscale = window_scale;
  }
  const std::size_t header_size = packet::build_tcp_headers(spec, payload, header_);
  const std::size_t used = len + (syn ? 1 : 0) + ((flags & flag::fin) != 0 ? 1 : 0);
  s.next_seq[from] += static_cast<std::uint32_t>(used);
  emit(c, ts, header_size);
}

void egress_synth::udp_datagram(const relay::host_conn& c, side from, std::span<const asio::const_buffer> buffers,
                                std::size_t n, std::uint64_t now_ns) {
  if (total_size(buffers, n) > max_l4(c.remote.v6) - udp_header_size) return;  // no socket sends that
  pieces_.assign(1, piece{});
  buffer_cursor(buffers, n).take(std::numeric_limits<std::size_t>::max(), pieces_);

  const oriented o = orient(c, from == local_side);
  packet::udp_datagram_spec spec;
  spec.src = o.src;
  spec.dst = o.dst;
  spec.src_port = o.src_port;
  spec.dst_port = o.dst_port;
  emit(c, now_ns, packet::build_udp_headers(spec, std::span<const piece>(pieces_).subspan(1), header_));
}

void egress_synth::icmp_echo(const relay::host_conn& c, side from, std::span<const asio::const_buffer> buffers,
                             std::size_t n, std::uint64_t now_ns) {
  const bool v6 = c.protocol == packet::proto_icmpv6;
  const std::size_t len = total_size(buffers, n);
  if (v6 != c.remote.v6 || len < icmp_header_size || len > max_l4(v6)) return;

  // The message as the ping socket put it on the wire: its identifier, and
  // the checksum (zeroed here) over that.
  pieces_.clear();
  buffer_cursor(buffers, n).take(len, pieces_);
  icmp_message_.clear();
  for (const auto& p : pieces_) icmp_message_.insert(icmp_message_.end(), p.begin(), p.end());
  icmp_message_[2] = icmp_message_[3] = std::byte{0};
  icmp_message_[4] = std::byte{static_cast<std::uint8_t>(c.local_port >> 8)};
  icmp_message_[5] = std::byte{static_cast<std::uint8_t>(c.local_port)};

  const oriented o = orient(c, from == local_side);
  const auto ip = packet::write_ip_headers({.src = o.src, .dst = o.dst, .protocol = c.protocol}, len, header_);
  // ICMPv4 sums the message alone; ICMPv6 adds the pseudo-header.
  const std::uint16_t sum = packet::checksum_fold(packet::checksum_partial(icmp_message_, v6 ? ip.pseudo_sum : 0));
  icmp_message_[2] = std::byte{static_cast<std::uint8_t>(sum >> 8)};
  icmp_message_[3] = std::byte{static_cast<std::uint8_t>(sum)};

  pieces_.assign(1, piece{});
  pieces_.emplace_back(icmp_message_);
  emit(c, now_ns, ip.size);
}

void egress_synth::emit(const relay::host_conn& c, std::uint64_t ts, std::size_t header_size) {
  pieces_[0] = std::span<const std::byte>(header_).first(header_size);
  sink_.frame(c, ts, pieces_);
}

}  // namespace netpen::capture
