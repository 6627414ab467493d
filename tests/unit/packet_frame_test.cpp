// Unit tests for net/packet parse_frame and the checksum helpers, with
// libtins as the independent oracle that builds the input frames.
#include <catch2/catch.hpp>

#include <tins/arp.h>
#include <tins/ethernetII.h>
#include <tins/icmp.h>
#include <tins/icmpv6.h>
#include <tins/ip.h>
#include <tins/ipv6.h>
#include <tins/rawpdu.h>
#include <tins/tcp.h>
#include <tins/udp.h>

#include "net/packet/frame.hpp"
#include "tests/unit/packet_test_util.hpp"

using namespace netpen::packet;
using namespace packet_test;

namespace {

const Tins::HWAddress<6> mac_a("02:00:00:00:00:0a");
const Tins::HWAddress<6> mac_b("02:00:00:00:00:0b");
const mac_address our_mac_a{2, 0, 0, 0, 0, 0x0a};
const mac_address our_mac_b{2, 0, 0, 0, 0, 0x0b};

bytes tcp_v4_frame(const char* payload = "hello, world") {
  Tins::TCP tcp(443, 40000);
  tcp.seq(0x01020304);
  tcp.ack_seq(0xa0b0c0d0);
  tcp.flags(Tins::TCP::SYN | Tins::TCP::ACK);
  tcp.window(29200);
  tcp.mss(1460);
  tcp.winscale(7);
  tcp.sack_permitted();
  tcp.timestamp(11, 22);
  Tins::IP ip("192.0.2.1", "10.0.2.15");
  ip.ttl(63);
  Tins::EthernetII eth(mac_a, mac_b);
  auto pkt = eth / ip / tcp / Tins::RawPDU(payload);
  return serialize(pkt);
}

bytes udp_v6_frame(const char* payload = "dns?") {
  Tins::UDP udp(53, 5353);
  Tins::IPv6 ip("fd00::1", "fd00::2");
  ip.hop_limit(17);
  Tins::EthernetII eth(mac_a, mac_b);
  auto pkt = eth / ip / udp / Tins::RawPDU(payload);
  return serialize(pkt);
}

bytes udp_v4_frame(const char* payload = "x") {
  Tins::EthernetII eth(mac_a, mac_b);
  auto pkt = eth / Tins::IP("10.0.2.3", "10.0.2.15") / Tins::UDP(53, 1234) / Tins::RawPDU(payload);
  return serialize(pkt);
}

bytes tcp_v6_frame() {
  Tins::TCP tcp(80, 50000);
  tcp.flags(Tins::TCP::PSH | Tins::TCP::ACK);
  Tins::EthernetII eth(mac_a, mac_b);
  auto pkt = eth / Tins::IPv6("fd00::1", "fd00::2") / tcp / Tins::RawPDU("GET / HTTP/1.1\r\n\r\n");
  return serialize(pkt);
}

bytes arp_frame() {
  Tins::EthernetII eth = Tins::ARP::make_arp_request("10.0.2.2", "10.0.2.15", mac_b);
  return serialize(eth);
}

// Rewrites the IPv4 header checksum after a test mutated the header.
void fix_ipv4_checksum(bytes& f) {
  set16(f, 24, 0);
  set16(f, 24, verify_ipv4_header(f));
}

// Inserts an IPv6 extension header (type `ext`, `len8` units of 8 bytes)
// right after the fixed header, fixing next-header chain and payload length.
void insert_ipv6_ext(bytes& f, std::uint8_t ext, std::size_t len8) {
  const std::uint8_t next = get8(f, 20);
  bytes hdr(len8 * 8, std::byte{0});
  hdr.at(0) = std::byte{next};
  hdr.at(1) = std::byte{static_cast<std::uint8_t>(len8 - 1)};
  hdr.at(2) = std::byte{1};  // PadN option covering the rest
  hdr.at(3) = std::byte{static_cast<std::uint8_t>(len8 * 8 - 4)};
  f.insert(f.begin() + 54, hdr.begin(), hdr.end());
  set8(f, 20, ext);
  set16(f, 18, static_cast<unsigned>(get16(f, 18) + len8 * 8));
}

std::string as_string(std::span<const std::byte> s) {
  return std::string(reinterpret_cast<const char*>(s.data()), s.size());
}

}  // namespace

TEST_CASE("checksum helpers follow RFC 1071", "[packet]") {
  const bytes rfc = {std::byte{0x00}, std::byte{0x01}, std::byte{0xf2}, std::byte{0x03},
                     std::byte{0xf4}, std::byte{0xf5}, std::byte{0xf6}, std::byte{0xf7}};
  CHECK(checksum_fold(checksum_partial(rfc)) == static_cast<std::uint16_t>(~0xddf2u));
  CHECK(checksum_fold(checksum_partial(bytes{})) == 0xffff);

  std::uint32_t seed = 12345;
  for (std::size_t n = 0; n < 300; ++n) {
    bytes data(n);
    for (auto& b : data) {
      seed = seed * 1103515245u + 12345u;
      b = std::byte{static_cast<std::uint8_t>(seed >> 16)};
    }
    INFO("length " << n);
    REQUIRE(checksum_fold(checksum_partial(data)) == naive_checksum(data));
    // Chaining at any even split point gives the same result.
    const std::size_t split = (n / 3) & ~std::size_t{1};
    const std::span<const std::byte> all(data);
    REQUIRE(checksum_fold(checksum_partial(all.subspan(split), checksum_partial(all.first(split)))) ==
            naive_checksum(data));
    // A large incoming sum is carried, not lost.
    REQUIRE(checksum_fold(checksum_partial(data, 0xffff0000u)) ==
            checksum_fold(checksum_partial(data, 0xffffu)));
  }
}

TEST_CASE("parse IPv4 TCP with options", "[packet]") {
  const bytes f = tcp_v4_frame();
  auto r = parse_frame(f);
  REQUIRE(r.has_value());
  CHECK(r->dst_mac == our_mac_a);
  CHECK(r->src_mac == our_mac_b);
  CHECK(r->ethertype == ethertype_ipv4);
  CHECK(r->src == v4(10, 0, 2, 15));
  CHECK(r->dst == v4(192, 0, 2, 1));
  CHECK(r->protocol == proto_tcp);
  CHECK(r->ttl == 63);
  CHECK(r->kind == l4_kind::tcp);
  CHECK(r->tcp.src_port == 40000);
  CHECK(r->tcp.dst_port == 443);
  CHECK(r->tcp.seq == 0x01020304u);
  CHECK(r->tcp.ack == 0xa0b0c0d0u);
  CHECK(r->tcp.flags == (tcp_flag::syn | tcp_flag::ack));
  CHECK(r->tcp.window == 29200);
  CHECK(r->tcp.mss == std::optional<std::uint16_t>(1460));
  CHECK(r->tcp.wscale == std::optional<std::uint8_t>(7));
  CHECK(r->tcp.sack_permitted);
  CHECK(as_string(r->payload) == "hello, world");
  CHECK(r->ip_packet.size() == f.size() - 14);
  CHECK(r->ip_packet.data() == f.data() + 14);
  CHECK(r->l4.data() == f.data() + 34);
  CHECK(r->payload.data() + r->payload.size() == f.data() + f.size());
}

TEST_CASE("parse TCP without options and over IPv6", "[packet]") {
  const bytes f = tcp_v6_frame();
  auto r = parse_frame(f);
  REQUIRE(r.has_value());
  CHECK(r->ethertype == ethertype_ipv6);
  CHECK(r->src == v6(2, 0xfd));
  CHECK(r->dst == v6(1, 0xfd));
  CHECK(r->ttl == Tins::IPv6(u8ptr(f) + 14, u32size(f) - 14).hop_limit());
  CHECK(r->kind == l4_kind::tcp);
  CHECK(r->tcp.src_port == 50000);
  CHECK(r->tcp.dst_port == 80);
  CHECK(r->tcp.flags == (tcp_flag::psh | tcp_flag::ack));
  CHECK_FALSE(r->tcp.mss);
  CHECK_FALSE(r->tcp.wscale);
  CHECK_FALSE(r->tcp.sack_permitted);
  CHECK(as_string(r->payload) == "GET / HTTP/1.1\r\n\r\n");
}

TEST_CASE("parse UDP over IPv4 and IPv6", "[packet]") {
  const bytes f6 = udp_v6_frame();
  auto r = parse_frame(f6);
  REQUIRE(r.has_value());
  CHECK(r->kind == l4_kind::udp);
  CHECK(r->protocol == proto_udp);
  CHECK(r->ttl == 17);
  CHECK(r->src == v6(2));
  CHECK(r->dst == v6(1));
  CHECK(r->udp.src_port == 5353);
  CHECK(r->udp.dst_port == 53);
  CHECK(as_string(r->payload) == "dns?");
  CHECK(r->l4.size() == 12);

  const bytes f4 = udp_v4_frame("abc");
  auto r4 = parse_frame(f4);
  REQUIRE(r4.has_value());
  CHECK(r4->kind == l4_kind::udp);
  CHECK(r4->udp.src_port == 1234);
  CHECK(as_string(r4->payload) == "abc");
}

TEST_CASE("Ethernet padding after a short IPv4 packet is ignored", "[packet]") {
  bytes f = udp_v4_frame("x");
  f.resize(14 + 29);
  f.resize(60, std::byte{0xee});  // minimum Ethernet frame, padded
  auto r = parse_frame(f);
  REQUIRE(r.has_value());
  CHECK(r->ip_packet.size() == 29);
  CHECK(as_string(r->payload) == "x");
  CHECK(r->l4.size() == 9);
}

TEST_CASE("parse ICMP and ICMPv6", "[packet]") {
  {
    Tins::EthernetII eth(mac_a, mac_b);
    auto pkt = eth / Tins::IP("10.0.2.2", "10.0.2.15") / Tins::ICMP(Tins::ICMP::ECHO_REQUEST) / Tins::RawPDU("ping");
    const bytes f = serialize(pkt);
    auto r = parse_frame(f);
    REQUIRE(r.has_value());
    CHECK(r->kind == l4_kind::icmp);
    CHECK(r->protocol == proto_icmp);
    CHECK(r->l4.size() == 8 + 4);
    CHECK(get8(r->l4, 0) == 8);
    CHECK(r->payload.empty());
  }
  {
    Tins::EthernetII eth(mac_a, mac_b);
    auto pkt = eth / Tins::IPv6("fd00::1", "fd00::2") / Tins::ICMPv6(Tins::ICMPv6::ECHO_REQUEST);
    const bytes f = serialize(pkt);
    auto r = parse_frame(f);
    REQUIRE(r.has_value());
    CHECK(r->kind == l4_kind::icmp);
    CHECK(r->protocol == proto_icmpv6);
    CHECK(get8(r->l4, 0) == 128);
  }
}

TEST_CASE("ARP and unknown ethertypes keep only Ethernet fields", "[packet]") {
  const bytes f = arp_frame();
  auto r = parse_frame(f);
  REQUIRE(r.has_value());
  CHECK(r->ethertype == ethertype_arp);
  CHECK(r->src_mac == our_mac_b);
  CHECK(r->dst_mac == mac_address{0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
  CHECK(r->kind == l4_kind::other);
  CHECK(r->ip_packet.empty());
  CHECK(r->l4.empty());

  bytes other = f;
  set16(other, 12, 0x88cc);  // LLDP
  auto r2 = parse_frame(other);
  REQUIRE(r2.has_value());
  CHECK(r2->ethertype == 0x88cc);

  set16(other, 12, 0x0100);  // an IEEE 802.3 length, not an ethertype
  REQUIRE_FALSE(parse_frame(other).has_value());
  CHECK(parse_frame(other).error() == parse_error::unsupported);
}

TEST_CASE("every truncation of a valid frame is rejected, never read past", "[packet]") {
  for (const bytes& full : {tcp_v4_frame(), tcp_v6_frame(), udp_v6_frame(), udp_v4_frame("odd")}) {
    auto whole = parse_frame(full);
    REQUIRE(whole.has_value());
    // libtins pads short frames to 60 bytes; the padding may be cut freely.
    const std::size_t needed = 14 + whole->ip_packet.size();
    for (std::size_t n = 0; n < full.size(); ++n) {
      const bytes prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));  // exact-size heap copy
      auto r = parse_frame(prefix);
      INFO("prefix " << n << " of " << full.size());
      if (n >= needed) {
        REQUIRE(r.has_value());
        CHECK(r->payload.size() == whole->payload.size());
      } else {
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error() == parse_error::truncated);
      }
    }
  }
  const bytes arp = arp_frame();
  for (std::size_t n = 0; n < arp.size(); ++n) {
    const bytes prefix(arp.begin(), arp.begin() + static_cast<std::ptrdiff_t>(n));
    CHECK(parse_frame(prefix).has_value() == (n >= 14));
  }
}

TEST_CASE("bad IPv4 headers", "[packet]") {
  const bytes good = tcp_v4_frame();
  SECTION("IHL below 5") {
    bytes f = good;
    set8(f, 14, 0x44);
    fix_ipv4_checksum(f);
    CHECK(parse_frame(f).error() == parse_error::malformed);
  }
  SECTION("IHL beyond the packet") {
    bytes f = udp_v4_frame("");
    set8(f, 14, 0x4f);  // 60-byte header in a 28-byte packet
    CHECK_FALSE(parse_frame(f).has_value());
  }
  SECTION("wrong version") {
    bytes f = good;
    set8(f, 14, 0x65);
    fix_ipv4_checksum(f);
    CHECK(parse_frame(f).error() == parse_error::malformed);
  }
  SECTION("total length shorter than the header") {
    bytes f = good;
    set16(f, 16, 19);
    fix_ipv4_checksum(f);
    CHECK(parse_frame(f).error() == parse_error::malformed);
  }
  SECTION("total length beyond the buffer") {
    bytes f = good;
    set16(f, 16, get16(f, 16) + 1);
    fix_ipv4_checksum(f);
    CHECK(parse_frame(f).error() == parse_error::truncated);
  }
  SECTION("bad header checksum") {
    bytes f = good;
    set16(f, 24, get16(f, 24) ^ 0x0100u);
    CHECK(parse_frame(f).error() == parse_error::bad_checksum);
    bytes g = good;
    set8(g, 22, get8(g, 22) + 1);  // TTL changed, checksum not
    CHECK(parse_frame(g).error() == parse_error::bad_checksum);
  }
  SECTION("IPv4 options are skipped") {
    Tins::IP ip("192.0.2.1", "10.0.2.15");
    ip.add_option(Tins::IP::option(Tins::IP::NOOP));
    Tins::EthernetII eth(mac_a, mac_b);
    auto pkt = eth / ip / Tins::UDP(9, 10) / Tins::RawPDU("opt");
    const bytes f = serialize(pkt);
    REQUIRE((get8(f, 14) & 0x0f) > 5);
    auto r = parse_frame(f);
    REQUIRE(r.has_value());
    CHECK(r->udp.dst_port == 9);
    CHECK(as_string(r->payload) == "opt");
  }
}

TEST_CASE("fragments are unsupported", "[packet]") {
  {
    Tins::IP ip("192.0.2.1", "10.0.2.15");
    ip.flags(Tins::IP::MORE_FRAGMENTS);
    Tins::EthernetII eth(mac_a, mac_b);
    auto pkt = eth / ip / Tins::UDP(9, 10) / Tins::RawPDU("frag");
    const bytes f = serialize(pkt);
    CHECK(parse_frame(f).error() == parse_error::unsupported);
  }
  {
    Tins::IP ip("192.0.2.1", "10.0.2.15");
    ip.fragment_offset(100);
    Tins::EthernetII eth(mac_a, mac_b);
    auto pkt = eth / ip / Tins::RawPDU("tail");
    const bytes f = serialize(pkt);
    CHECK(parse_frame(f).error() == parse_error::unsupported);
  }
  {
    bytes f = tcp_v6_frame();
    insert_ipv6_ext(f, 44, 1);  // fragment header
    CHECK(parse_frame(f).error() == parse_error::unsupported);
  }
}

TEST_CASE("IPv6 extension headers are skipped", "[packet]") {
  bytes f = tcp_v6_frame();
  insert_ipv6_ext(f, 60, 2);  // destination options
  insert_ipv6_ext(f, 43, 1);  // routing
  insert_ipv6_ext(f, 0, 1);   // hop-by-hop first
  auto r = parse_frame(f);
  REQUIRE(r.has_value());
  CHECK(r->protocol == proto_tcp);
  CHECK(r->kind == l4_kind::tcp);
  CHECK(r->l4.data() == f.data() + 54 + 32);
  CHECK(r->tcp.dst_port == 80);
  CHECK(as_string(r->payload) == "GET / HTTP/1.1\r\n\r\n");

  SECTION("an extension header longer than the payload is truncated") {
    bytes g = f;
    set8(g, 55, 200);
    CHECK(parse_frame(g).error() == parse_error::truncated);
  }
  SECTION("no next header") {
    bytes g = tcp_v6_frame();
    set8(g, 20, 59);
    auto r2 = parse_frame(g);
    REQUIRE(r2.has_value());
    CHECK(r2->kind == l4_kind::other);
    CHECK(r2->payload.empty());
  }
  SECTION("payload length beyond the buffer") {
    bytes g = tcp_v6_frame();
    set16(g, 18, get16(g, 18) + 1);
    CHECK(parse_frame(g).error() == parse_error::truncated);
  }
  SECTION("wrong version") {
    bytes g = tcp_v6_frame();
    set8(g, 14, 0x40);
    CHECK(parse_frame(g).error() == parse_error::malformed);
  }
}

TEST_CASE("malformed TCP headers and options", "[packet]") {
  const bytes good = tcp_v4_frame();
  const std::size_t tcp = 34;
  const std::size_t opt = tcp + 20;
  REQUIRE(get8(good, tcp + 12) >> 4 > 5);
  auto with = [&](std::size_t at, std::uint8_t v) {
    bytes f = good;
    set8(f, at, v);
    return parse_frame(f);
  };
  CHECK(with(tcp + 12, 0x40).error() == parse_error::malformed);  // data offset 4
  CHECK(with(tcp + 12, 0xf0).error() == parse_error::truncated);  // 60 bytes claimed
  // Rewrite the option area: [kind, len, ...] variants.
  auto opts = [&](std::initializer_list<unsigned> o) {
    bytes f = good;
    const std::size_t area = (std::size_t{get8(f, tcp + 12)} >> 4) * 4 - 20;
    for (std::size_t i = 0; i < area; ++i) set8(f, opt + i, 0);  // EOL fill
    std::size_t i = 0;
    for (unsigned v : o) set8(f, opt + i++, v);
    return parse_frame(f);
  };
  CHECK(opts({2, 0}).error() == parse_error::malformed);           // length 0
  CHECK(opts({2, 1}).error() == parse_error::malformed);           // length 1
  CHECK(opts({2, 3, 5}).error() == parse_error::malformed);        // MSS length 3
  CHECK(opts({3, 4, 1, 1}).error() == parse_error::malformed);     // WS length 4
  CHECK(opts({4, 3, 0}).error() == parse_error::malformed);        // SACK-perm length 3
  CHECK(opts({8, 250}).error() == parse_error::malformed);         // beyond the header
  {
    bytes f = good;
    const std::size_t area = (std::size_t{get8(f, tcp + 12)} >> 4) * 4 - 20;
    for (std::size_t i = 0; i < area; ++i) set8(f, opt + i, 1);  // all NOP
    set8(f, opt + area - 1, 2);                                  // kind with no room for length
    CHECK(parse_frame(f).error() == parse_error::malformed);
  }
  {
    auto r = opts({1, 1, 2, 4, 0x05, 0xb4, 0, 3, 0});  // options after EOL are ignored
    REQUIRE(r.has_value());
    CHECK(r->tcp.mss == std::optional<std::uint16_t>(1460));
    CHECK_FALSE(r->tcp.wscale);
  }
  {
    auto r = opts({5, 10, 0, 0, 0, 1, 0, 0, 0, 2, 3, 3, 14});  // SACK block skipped
    REQUIRE(r.has_value());
    CHECK(r->tcp.wscale == std::optional<std::uint8_t>(14));
  }
}

TEST_CASE("UDP length field must be consistent", "[packet]") {
  const bytes good = udp_v4_frame("payload");
  const std::size_t udp = 34;
  {
    bytes f = good;
    set16(f, udp + 4, 7);
    CHECK(parse_frame(f).error() == parse_error::malformed);
  }
  {
    bytes f = good;
    set16(f, udp + 4, get16(f, udp + 4) + 1);
    CHECK(parse_frame(f).error() == parse_error::truncated);
  }
  {
    bytes f = good;
    set16(f, udp + 4, 8 + 3);
    auto r = parse_frame(f);
    REQUIRE(r.has_value());
    CHECK(as_string(r->payload) == "pay");
    CHECK(r->l4.size() == 11);
  }
  {
    bytes f = udp_v4_frame("");
    auto r = parse_frame(f);
    REQUIRE(r.has_value());
    CHECK(r->payload.empty());
  }
}
