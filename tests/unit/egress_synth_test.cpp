// [egress] capture/egress_synth: scripted egress_observer calls into a sink
// that records each frame; every frame is parsed by parse_frame, its
// checksums recomputed naively (packet_test_util.hpp) and its TCP header read
// again by libtins, then sequence/ack continuity, flags, directions and
// payloads are checked over whole conversations.
#include <catch2/catch.hpp>

#include <tins/ethernetII.h>
#include <tins/icmp.h>
#include <tins/icmpv6.h>
#include <tins/tcp.h>

#include <optional>
#include <string>
#include <vector>

#include "capture/egress_synth.hpp"
#include "tests/unit/packet_test_util.hpp"

namespace cap = netpen::capture;
namespace pk = netpen::packet;
namespace rl = netpen::relay;
using namespace packet_test;
namespace flag = pk::tcp_flag;

namespace {

struct recorded {
  rl::host_conn conn;
  std::uint64_t ts = 0;
  bytes frame;
  std::size_t pieces = 0;
};

struct recorder final : cap::synth_sink {
  std::vector<recorded> frames;
  void frame(const rl::host_conn& c, std::uint64_t ts, std::span<const std::span<const std::byte>> pieces) override {
    bytes f;
    for (const auto& p : pieces) f.insert(f.end(), p.begin(), p.end());
    frames.push_back({c, ts, std::move(f), pieces.size()});
  }
};

bytes pattern(std::size_t n, unsigned seed) {
  bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = std::byte{static_cast<std::uint8_t>((i * 7u + seed) ^ (i >> 8))};
  return b;
}

bytes concat(const bytes& a, const bytes& b) {
  bytes out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

std::vector<asio::const_buffer> buffers_of(std::initializer_list<const bytes*> parts) {
  std::vector<asio::const_buffer> out;
  for (const bytes* p : parts) out.emplace_back(p->data(), p->size());
  return out;
}

rl::host_conn conn(std::uint8_t protocol, bool v6, std::uint16_t local_port = 40000, std::uint16_t remote_port = 443) {
  rl::host_conn c;
  c.protocol = protocol;
  c.local = v6 ? packet_test::v6(0x10, 0x20) : v4(192, 0, 2, 10);
  c.remote = v6 ? packet_test::v6(0x05, 0x20) : v4(203, 0, 113, 5);
  c.local_port = local_port;
  c.remote_port = remote_port;
  return c;
}

// The same socket before connected(): local address not known yet.
rl::host_conn unconnected(rl::host_conn c) {
  c.local = {};
  return c;
}

// A frame parsed and checked: valid IP (parse_frame verifies the IPv4
// header checksum), valid L4 checksum (over the pseudo-header but for
// ICMPv4), IP lengths matching the frame.
pk::frame checked_parse(const recorded& r) {
  auto f = pk::parse_frame(r.frame);
  REQUIRE(f.has_value());
  CHECK(f->src_mac == pk::mac_address{});
  CHECK(f->dst_mac == pk::mac_address{});
  CHECK(f->ttl == 64);
  if (f->protocol == pk::proto_icmp) {
    CHECK(naive_checksum(bytes(f->l4.begin(), f->l4.end())) == 0);
  } else {
    CHECK(verify_l4(r.frame) == 0);
  }
  if (f->ethertype == pk::ethertype_ipv4) {
    CHECK(verify_ipv4_header(r.frame) == 0);
    CHECK(get16(r.frame, 16) == r.frame.size() - 14);
  } else {
    CHECK(get16(r.frame, 18) == r.frame.size() - 54);
  }
  return *f;
}

// One TCP segment as seen in the capture.
struct segment {
  bool from_local = false;
  std::uint8_t flags = 0;
  std::uint32_t seq = 0, ack = 0;
  std::uint16_t window = 0;
  std::optional<std::uint16_t> mss;
  std::uint64_t ts = 0;
  bytes payload;
  std::size_t pieces = 0;
};

// Every recorded frame as a TCP segment of socket `c` (its addresses and
// ports checked in the segment's direction), cross-checked with libtins.
std::vector<segment> segments(const recorder& rec, const rl::host_conn& c) {
  std::vector<segment> out;
  for (const auto& r : rec.frames) {
    const pk::frame f = checked_parse(r);
    REQUIRE(f.kind == pk::l4_kind::tcp);
    CHECK(same_socket(r.conn, c));
    const bool from_local = f.tcp.src_port == c.local_port;
    CHECK(f.src == (from_local ? c.local : c.remote));
    CHECK(f.dst == (from_local ? c.remote : c.local));
    CHECK(f.tcp.dst_port == (from_local ? c.remote_port : c.local_port));
    Tins::EthernetII eth(u8ptr(r.frame), u32size(r.frame));
    const auto& tcp = eth.rfind_pdu<Tins::TCP>();
    CHECK(tcp.seq() == f.tcp.seq);
    CHECK(tcp.ack_seq() == f.tcp.ack);
    CHECK(tcp.flags() == f.tcp.flags);
    out.push_back({from_local, f.tcp.flags, f.tcp.seq, f.tcp.ack, f.tcp.window, f.tcp.mss, r.ts,
                   bytes(f.payload.begin(), f.payload.end()), r.pieces});
  }
  return out;
}

// Each side's sequence numbers continue from its SYN, every ACK acks what
// the other side sent so far (a refusal's RST, seq 0, is the exception).
void check_continuity(const std::vector<segment>& segs) {
  std::array<std::optional<std::uint32_t>, 2> next;
  for (std::size_t i = 0; i < segs.size(); ++i) {
    const segment& s = segs[i];
    INFO("segment " << i);
    const std::size_t me = s.from_local ? 0 : 1;
    const std::size_t peer = 1 - me;
    if ((s.flags & flag::syn) != 0 && !next[me]) next[me] = s.seq;
    const bool refusal = (s.flags & flag::rst) != 0 && !next[me];
    if (!refusal) {
      REQUIRE(next[me]);
      CHECK(s.seq == *next[me]);
    }
    if ((s.flags & flag::ack) != 0) {
      REQUIRE(next[peer]);
      CHECK(s.ack == *next[peer]);
    } else {
      CHECK(s.ack == 0);
    }
    if (next[me]) {
      *next[me] += static_cast<std::uint32_t>(s.payload.size() + ((s.flags & flag::syn) != 0 ? 1 : 0) +
                                              ((s.flags & flag::fin) != 0 ? 1 : 0));
    }
  }
}

std::vector<std::uint8_t> flags_of(const std::vector<segment>& segs) {
  std::vector<std::uint8_t> out;
  for (const auto& s : segs) out.push_back(s.flags);
  return out;
}

bytes stream_of(const std::vector<segment>& segs, bool from_local) {
  bytes out;
  for (const auto& s : segs)
    if (s.from_local == from_local) out.insert(out.end(), s.payload.begin(), s.payload.end());
  return out;
}

constexpr std::uint8_t psh_ack = flag::psh | flag::ack;
constexpr std::uint8_t fin_ack = flag::fin | flag::ack;
constexpr std::uint8_t rst_ack = flag::rst | flag::ack;
constexpr std::uint8_t syn_ack = flag::syn | flag::ack;

// opened at 1000 (local unknown), connected at 2000.
void open_and_connect(cap::egress_synth& s, const rl::host_conn& c) {
  s.opened(unconnected(c), 1000);
  s.connected(c, 2000);
}

}  // namespace

TEST_CASE("TCP: a whole conversation, IPv4 and IPv6", "[egress]") {
  const bool v6 = GENERATE(false, true);
  INFO("v6 " << v6);
  const rl::host_conn c = conn(pk::proto_tcp, v6);
  const std::size_t max_seg = v6 ? 65515 : 65495;  // IPv6 payload length / IPv4 total length 65535
  recorder rec;
  cap::egress_synth synth(rec);

  open_and_connect(synth, c);
  CHECK(synth.tracked() == 1);
  // One write spanning two buffers (the third is beyond n).
  const bytes req1 = text("GET / HTTP/1.1\r\n"), req2 = text("Host: x\r\n\r\n"), extra = text("not sent");
  const auto req = buffers_of({&req1, &req2, &extra});
  synth.data(c, rl::host_direction::sent, req, req1.size() + req2.size(), 3000);
  // One read larger than an IP packet: two segments.
  const bytes big = pattern(70000, 1);
  const auto big_buf = buffers_of({&big});
  synth.data(c, rl::host_direction::received, big_buf, big.size(), 4000);
  // A read whose first segment spans two buffers, the second two more.
  const bytes r1 = pattern(65000, 2), r2 = pattern(1000, 3), r3 = pattern(5, 4);
  const auto rest = buffers_of({&r1, &r2, &r3});
  synth.data(c, rl::host_direction::received, rest, r1.size() + r2.size() + r3.size(), 5000);
  synth.fin(c, rl::host_direction::sent, 6000);
  synth.data(c, rl::host_direction::sent, req, req1.size(), 6500);  // after our FIN: dropped
  synth.fin(c, rl::host_direction::received, 7000);
  synth.closed(c, rl::host_close::normal, 8000);
  CHECK(synth.tracked() == 0);

  const auto segs = segments(rec, c);
  CHECK(flags_of(segs) == std::vector<std::uint8_t>{flag::syn, syn_ack, flag::ack, psh_ack, psh_ack, psh_ack, psh_ack,
                                                    psh_ack, fin_ack, fin_ack, flag::ack});
  REQUIRE(segs.size() == 11);
  check_continuity(segs);

  // Handshake: the SYN at the opened() time, with the host's address known
  // at connected(); MSS by family, window 65535.
  CHECK(segs[0].from_local);
  CHECK(segs[0].ts == 1000);
  CHECK(segs[0].mss == (v6 ? 1440 : 1460));
  CHECK_FALSE(segs[1].from_local);
  CHECK(segs[1].ts == 2000);
  CHECK(segs[1].mss.has_value());
  CHECK(segs[2].from_local);
  CHECK(segs[2].ts == 2000);
  for (const auto& s : segs) CHECK(s.window == 65535);
  CHECK(segs[0].seq != segs[1].seq);  // each side its own ISN
  for (const auto& r : rec.frames) CHECK(r.conn.local == c.local);

  // Data: request in one segment made of both buffers, no copy.
  CHECK(segs[3].from_local);
  CHECK(segs[3].pieces == 3);
  CHECK(segs[3].payload == concat(req1, req2));
  CHECK(segs[3].ts == 3000);
  // 70000 bytes: a full segment, then the rest.
  CHECK(segs[4].payload.size() == max_seg);
  CHECK(segs[5].payload.size() == 70000 - max_seg);
  CHECK(segs[4].pieces == 2);
  CHECK(segs[6].payload.size() == max_seg);
  CHECK(segs[6].pieces == 3);  // r1 and the start of r2
  CHECK(segs[7].pieces == 3);  // the rest of r2, and r3
  CHECK(stream_of(segs, true) == concat(req1, req2));
  CHECK(stream_of(segs, false) == concat(concat(big, r1), concat(r2, r3)));

  // Close: our FIN, theirs, and our ACK of theirs.
  CHECK(segs[8].from_local);
  CHECK_FALSE(segs[9].from_local);
  CHECK(segs[10].from_local);
  CHECK(segs[10].ts == 8000);
}

TEST_CASE("TCP: the last ACK answers whichever FIN came second", "[egress]") {
  const rl::host_conn c = conn(pk::proto_tcp, false);
  recorder rec;
  cap::egress_synth synth(rec);
  open_and_connect(synth, c);
  synth.fin(c, rl::host_direction::received, 3000);
  synth.fin(c, rl::host_direction::received, 3001);  // a repeat: ignored
  synth.fin(c, rl::host_direction::sent, 4000);
  synth.closed(c, rl::host_close::normal, 5000);
  const auto segs = segments(rec, c);
  CHECK(flags_of(segs) == std::vector<std::uint8_t>{flag::syn, syn_ack, flag::ack, fin_ack, fin_ack, flag::ack});
  check_continuity(segs);
  REQUIRE(segs.size() == 6);
  CHECK_FALSE(segs[5].from_local);
  CHECK(synth.tracked() == 0);
}

TEST_CASE("TCP: a normal close with one FIN adds nothing", "[egress]") {
  const rl::host_conn c = conn(pk::proto_tcp, false);
  recorder rec;
  cap::egress_synth synth(rec);
  open_and_connect(synth, c);
  synth.fin(c, rl::host_direction::received, 3000);
  synth.closed(c, rl::host_close::normal, 4000);
  const auto segs = segments(rec, c);
  CHECK(flags_of(segs) == std::vector<std::uint8_t>{flag::syn, syn_ack, flag::ack, fin_ack});
  check_continuity(segs);
  CHECK(synth.tracked() == 0);
}

TEST_CASE("TCP: refused connect is SYN then the remote's RST|ACK", "[egress]") {
  const bool v6 = GENERATE(false, true);
  INFO("v6 " << v6);
  const rl::host_conn c = conn(pk::proto_tcp, v6);
  recorder rec;
  cap::egress_synth synth(rec);
  synth.opened(unconnected(c), 1000);
  synth.closed(c, rl::host_close::reset_received, 1500);  // local filled in at close
  CHECK(synth.tracked() == 0);
  const auto segs = segments(rec, c);
  REQUIRE(flags_of(segs) == std::vector<std::uint8_t>{flag::syn, rst_ack});
  check_continuity(segs);
  CHECK(segs[0].ts == 1000);
  CHECK(segs[1].ts == 1500);
  CHECK(segs[1].seq == 0);
  CHECK(segs[1].ack == segs[0].seq + 1);
}

TEST_CASE("TCP: a timed-out connect is a SYN only, from the unspecified address if unknown", "[egress]") {
  const bool v6 = GENERATE(false, true);
  INFO("v6 " << v6);
  const rl::host_conn c = conn(pk::proto_tcp, v6);
  recorder rec;
  cap::egress_synth synth(rec);
  synth.opened(unconnected(c), 1000);
  synth.closed(unconnected(c), rl::host_close::normal, 9000);
  CHECK(synth.tracked() == 0);
  REQUIRE(rec.frames.size() == 1);
  const pk::frame f = checked_parse(rec.frames[0]);
  CHECK(f.ethertype == (v6 ? pk::ethertype_ipv6 : pk::ethertype_ipv4));
  CHECK(f.tcp.flags == flag::syn);
  CHECK(f.src == pk::ip_address{.v6 = v6, .bytes = {}});
  CHECK(f.dst == c.remote);
  CHECK(rec.frames[0].ts == 1000);
}

TEST_CASE("TCP: reset sent and reset received after data", "[egress]") {
  const bool sent = GENERATE(true, false);
  INFO("reset sent " << sent);
  const rl::host_conn c = conn(pk::proto_tcp, false);
  recorder rec;
  cap::egress_synth synth(rec);
  open_and_connect(synth, c);
  const bytes a = pattern(100, 1), b = pattern(33, 2);
  synth.data(c, rl::host_direction::sent, buffers_of({&a}), a.size(), 3000);
  synth.data(c, rl::host_direction::received, buffers_of({&b}), b.size(), 3100);
  synth.closed(c, sent ? rl::host_close::reset_sent : rl::host_close::reset_received, 4000);
  CHECK(synth.tracked() == 0);
  const auto segs = segments(rec, c);
  CHECK(flags_of(segs) == std::vector<std::uint8_t>{flag::syn, syn_ack, flag::ack, psh_ack, psh_ack, rst_ack});
  check_continuity(segs);
  REQUIRE(segs.size() == 6);
  CHECK(segs[5].from_local == sent);
  CHECK(segs[5].ts == 4000);
}

TEST_CASE("TCP: ISNs are deterministic per socket", "[egress]") {
  auto syn_seq = [](const rl::host_conn& c) {
    recorder rec;
    cap::egress_synth synth(rec);
    open_and_connect(synth, c);
    const auto segs = segments(rec, c);
    REQUIRE(segs.size() == 3);
    return std::pair{segs[0].seq, segs[1].seq};
  };
  const rl::host_conn c = conn(pk::proto_tcp, false);
  CHECK(syn_seq(c) == syn_seq(c));
  CHECK(syn_seq(c).first != syn_seq(conn(pk::proto_tcp, false, 40001)).first);
  CHECK(syn_seq(c).first != syn_seq(c).second);
}

TEST_CASE("TCP: data for a socket never opened adopts it, with a handshake at that time", "[egress]") {
  const rl::host_conn c = conn(pk::proto_tcp, true);
  recorder rec;
  cap::egress_synth synth(rec);
  synth.closed(c, rl::host_close::reset_received, 100);  // unknown: nothing
  CHECK(rec.frames.empty());
  const bytes a = pattern(10, 1);
  synth.data(c, rl::host_direction::received, buffers_of({&a}), a.size(), 5000);
  CHECK(synth.tracked() == 1);
  synth.closed(c, rl::host_close::reset_sent, 6000);
  CHECK(synth.tracked() == 0);
  const auto segs = segments(rec, c);
  CHECK(flags_of(segs) == std::vector<std::uint8_t>{flag::syn, syn_ack, flag::ack, psh_ack, rst_ack});
  check_continuity(segs);
  for (std::size_t i = 0; i < 4; ++i) CHECK(segs[i].ts == 5000);
}

TEST_CASE("UDP: one datagram per data call, both ways, no state", "[egress]") {
  const bool v6 = GENERATE(false, true);
  INFO("v6 " << v6);
  const rl::host_conn c = conn(pk::proto_udp, v6, 50000, 53);
  recorder rec;
  cap::egress_synth synth(rec);
  synth.opened(c, 1);
  CHECK(synth.tracked() == 0);
  const bytes q1 = pattern(7, 1), q2 = pattern(20, 2), answer = pattern(300, 3);
  synth.data(c, rl::host_direction::sent, buffers_of({&q1, &q2}), q1.size() + 5, 10);
  synth.data(c, rl::host_direction::received, buffers_of({&answer}), answer.size(), 20);
  const bytes huge = pattern(v6 ? 65528 : 65508, 4);  // one byte too many for an IP packet
  synth.data(c, rl::host_direction::sent, buffers_of({&huge}), huge.size(), 30);
  synth.closed(c, rl::host_close::normal, 40);
  CHECK(synth.tracked() == 0);

  REQUIRE(rec.frames.size() == 2);
  const pk::frame out = checked_parse(rec.frames[0]);
  REQUIRE(out.kind == pk::l4_kind::udp);
  CHECK(out.src == c.local);
  CHECK(out.dst == c.remote);
  CHECK(out.udp.src_port == 50000);
  CHECK(out.udp.dst_port == 53);
  CHECK(bytes(out.payload.begin(), out.payload.end()) == concat(q1, bytes(q2.begin(), q2.begin() + 5)));
  CHECK(rec.frames[0].pieces == 3);
  CHECK(rec.frames[0].ts == 10);
  const pk::frame in = checked_parse(rec.frames[1]);
  REQUIRE(in.kind == pk::l4_kind::udp);
  CHECK(in.src == c.remote);
  CHECK(in.dst == c.local);
  CHECK(in.udp.src_port == 53);
  CHECK(in.udp.dst_port == 50000);
  CHECK(bytes(in.payload.begin(), in.payload.end()) == answer);
}

TEST_CASE("ICMP echo: identifier rewritten to the local port, checksum valid", "[egress]") {
  const bool v6 = GENERATE(false, true);
  INFO("v6 " << v6);
  rl::host_conn c = conn(v6 ? pk::proto_icmpv6 : pk::proto_icmp, v6, 0x4242, 0);
  recorder rec;
  cap::egress_synth synth(rec);
  synth.opened(c, 1);
  // Echo request as the relay wrote it: identifier 0x1111, sequence 7, a
  // stale checksum; split over two buffers.
  const std::uint8_t request = v6 ? 128 : 8, reply = v6 ? 129 : 0;
  bytes head = {std::byte{request}, std::byte{0}, std::byte{0xde}, std::byte{0xad}, std::byte{0x11}, std::byte{0x11},
                std::byte{0}, std::byte{7}};
  const bytes body = pattern(57, 9);
  synth.data(c, rl::host_direction::sent, buffers_of({&head, &body}), head.size() + body.size(), 10);
  head[0] = std::byte{reply};
  synth.data(c, rl::host_direction::received, buffers_of({&head, &body}), head.size() + body.size(), 20);
  const bytes runt = pattern(7, 1);
  synth.data(c, rl::host_direction::sent, buffers_of({&runt}), runt.size(), 30);  // dropped
  synth.closed(c, rl::host_close::normal, 40);
  CHECK(synth.tracked() == 0);

  REQUIRE(rec.frames.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    INFO("frame " << i);
    const bool sent = i == 0;
    const auto& r = rec.frames[i];
    const pk::frame f = checked_parse(r);  // verify_l4 covers the ICMPv6 pseudo-header
    REQUIRE(f.kind == pk::l4_kind::icmp);
    CHECK(f.protocol == (v6 ? pk::proto_icmpv6 : pk::proto_icmp));
    CHECK(f.src == (sent ? c.local : c.remote));
    CHECK(f.dst == (sent ? c.remote : c.local));
    CHECK(get8(f.l4, 0) == (sent ? request : reply));
    CHECK(get16(f.l4, 4) == 0x4242);
    CHECK(get16(f.l4, 6) == 7);
    CHECK(bytes(f.l4.begin() + 8, f.l4.end()) == body);
    CHECK(r.ts == (sent ? 10u : 20u));
    Tins::EthernetII eth(u8ptr(r.frame), u32size(r.frame));
    if (v6) {
      CHECK(eth.rfind_pdu<Tins::ICMPv6>().identifier() == 0x4242);
    } else {
      CHECK(eth.rfind_pdu<Tins::ICMP>().id() == 0x4242);
    }
  }
}
