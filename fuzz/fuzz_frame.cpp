// libFuzzer target: one Ethernet frame from the tap (net/packet
// parse_frame) and everything the engine derives from a parsed frame: the
// ARP/NDP answer, an Echo Request and its reply, a quoted ICMP error, the
// ICMP error netpen would send back about it, the RST for a closed port;
// the same bytes also go through the kernel gate's L3 view (relay
// parse_l3). Oracles besides the sanitizers: every span of the parsed frame
// lies inside the input and inside the span that contains it; a TCP or UDP
// frame rebuilt from its parsed fields parses back to the same fields; every
// frame netpen builds in answer parses again.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "fuzz/fuzz_require.hpp"
#include "net/packet/frame.hpp"
#include "net/packet/icmp.hpp"
#include "net/packet/icmp_quote.hpp"
#include "net/packet/ip_header.hpp"
#include "net/packet/neighbor.hpp"
#include "net/relay/l3_frame.hpp"
#include "net/tcp/closed_reset.hpp"

namespace {

using namespace netpen::packet;
using bytes = std::span<const std::byte>;

bool inside(bytes inner, bytes outer) {
  if (inner.empty()) return true;
  return inner.data() >= outer.data() && inner.data() + inner.size() <= outer.data() + outer.size();
}

bool same_bytes(bytes a, bytes b) { return std::ranges::equal(a, b); }

void check_spans(const frame& f, bytes buf) {
  FUZZ_REQUIRE(inside(f.ip_packet, buf));
  FUZZ_REQUIRE(inside(f.l4, f.ip_packet.empty() ? buf : f.ip_packet));
  FUZZ_REQUIRE(inside(f.payload, f.l4.empty() ? buf : f.l4));
  if (f.kind == l4_kind::tcp) FUZZ_REQUIRE(f.protocol == proto_tcp);
  if (f.kind == l4_kind::udp) FUZZ_REQUIRE(f.protocol == proto_udp);
  if (f.kind != l4_kind::tcp && f.kind != l4_kind::udp) FUZZ_REQUIRE(f.payload.empty());
}

// Builds the frame's TCP or UDP segment again from the parsed fields.
std::vector<std::byte> rebuild(const frame& f) {
  std::array<std::byte, max_header_size> head{};
  std::size_t n = 0;
  if (f.kind == l4_kind::tcp) {
    tcp_segment_spec s;
    s.src_mac = f.src_mac, s.dst_mac = f.dst_mac, s.src = f.src, s.dst = f.dst, s.ttl = f.ttl;
    s.src_port = f.tcp.src_port, s.dst_port = f.tcp.dst_port, s.seq = f.tcp.seq, s.ack = f.tcp.ack;
    s.flags = f.tcp.flags, s.window = f.tcp.window, s.mss = f.tcp.mss, s.wscale = f.tcp.wscale;
    s.payload[0] = f.payload;
    n = build_tcp_headers(s, head);
  } else {
    udp_datagram_spec s;
    s.src_mac = f.src_mac, s.dst_mac = f.dst_mac, s.src = f.src, s.dst = f.dst, s.ttl = f.ttl;
    s.src_port = f.udp.src_port, s.dst_port = f.udp.dst_port, s.payload = f.payload;
    n = build_udp_headers(s, head);
  }
  std::vector<std::byte> out(head.begin(), head.begin() + static_cast<std::ptrdiff_t>(n));
  out.insert(out.end(), f.payload.begin(), f.payload.end());
  return out;
}

void check_round_trip(const frame& f) {
  if (f.kind != l4_kind::tcp && f.kind != l4_kind::udp) return;
  if (f.payload.size() > max_ip_length - 100) return;
  const auto wire = rebuild(f);
  const auto g = parse_frame(wire);
  FUZZ_REQUIRE(g.has_value());
  FUZZ_REQUIRE(g->kind == f.kind && g->src == f.src && g->dst == f.dst && g->ttl == f.ttl && g->protocol == f.protocol);
  FUZZ_REQUIRE(same_bytes(g->payload, f.payload));
  if (f.kind == l4_kind::udp) {
    FUZZ_REQUIRE(g->udp.src_port == f.udp.src_port && g->udp.dst_port == f.udp.dst_port);
    return;
  }
  const auto &a = g->tcp, &b = f.tcp;
  FUZZ_REQUIRE(a.src_port == b.src_port && a.dst_port == b.dst_port && a.seq == b.seq && a.ack == b.ack);
  FUZZ_REQUIRE(a.flags == b.flags && a.window == b.window && a.mss == b.mss && a.wscale == b.wscale);
}

void check_answers(const frame& f, bytes raw) {
  const mac_address gw_mac{2, 0, 0, 0, 0, 1};
  ip_address gw4, gw6;
  gw4.bytes = {10, 0, 2, 2};
  gw6.v6 = true;
  gw6.bytes = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
  if (auto reply = answer_neighbor_solicitation(f, raw, gw_mac, gw4, gw6)) FUZZ_REQUIRE(parse_frame(*reply).has_value());
  if (auto e = parse_echo_request(f)) {
    FUZZ_REQUIRE(inside(e->payload, f.l4));
    const auto reply = build_echo_reply(gw_mac, f.src_mac, f.dst, f.src, 64, e->id, e->seq, e->payload);
    if (!reply.empty()) FUZZ_REQUIRE(parse_frame(reply).has_value());
  }
  if (auto q = parse_quoted_error(f)) FUZZ_REQUIRE(q->protocol == proto_tcp || q->protocol == proto_udp);
  if (!f.ip_packet.empty() && may_answer_with_error(f)) {
    icmp_error_spec s;
    s.src_mac = gw_mac, s.dst_mac = f.src_mac, s.from = f.dst, s.to = f.src;
    s.type = f.src.v6 ? icmp6::dest_unreachable : icmp4::dest_unreachable;
    s.quoted_ip_packet = f.ip_packet;
    const auto err = build_icmp_error(s);
    FUZZ_REQUIRE(!err.empty());
    const auto g = parse_frame(err);
    FUZZ_REQUIRE(g.has_value() && g->kind == l4_kind::icmp);
    FUZZ_REQUIRE(g->ip_packet.size() <= (f.src.v6 ? icmp6::error_max_ip_len : icmp4::error_max_ip_len));
  }
  if (f.kind == l4_kind::tcp) {
    netpen::tcp::segment_in seg;
    seg.seq = f.tcp.seq, seg.ack = f.tcp.ack, seg.flags = f.tcp.flags, seg.payload = f.payload;
    const auto rst = netpen::tcp::reset_for_closed(seg);
    FUZZ_REQUIRE(rst.has_value() == ((f.tcp.flags & tcp_flag::rst) == 0));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto raw = std::as_bytes(std::span(data, size));
  if (auto f = parse_frame(raw)) {
    check_spans(*f, raw);
    check_round_trip(*f);
    check_answers(*f, raw);
  }
  std::vector<std::byte> scratch;
  const std::uint16_t hw = size > 0 && (data[0] >> 4) == 6 ? ethertype_ipv6 : ethertype_ipv4;
  if (auto f = netpen::relay::parse_l3(raw, hw, scratch)) {
    check_spans(*f, scratch);
    check_answers(*f, scratch);
  }
  return 0;
}
