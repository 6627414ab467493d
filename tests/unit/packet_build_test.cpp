// Unit tests for net/packet build_tcp_headers / build_udp_headers: frames
// built here are decoded by libtins (the oracle) and their checksums are
// recomputed independently.
#include <catch2/catch.hpp>

#include <tins/ethernetII.h>
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

const mac_address gw_mac{2, 0, 0, 0, 0, 1};
const mac_address child_mac{2, 0, 0, 0, 0, 2};

bytes pattern(std::size_t n, unsigned seed) {
  bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = std::byte{static_cast<std::uint8_t>((i * 31u + seed * 7u) ^ (i >> 3))};
  return b;
}

// Header bytes followed by the payload spans, as writev would send them.
bytes wire(std::span<const std::byte> hdr, std::span<const std::byte> a, std::span<const std::byte> b = {}) {
  bytes out(hdr.begin(), hdr.end());
  out.insert(out.end(), a.begin(), a.end());
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

tcp_segment_spec tcp_spec(bool is_v6) {
  tcp_segment_spec s;
  s.src_mac = gw_mac;
  s.dst_mac = child_mac;
  s.src = is_v6 ? v6(1) : v4(10, 0, 2, 2);
  s.dst = is_v6 ? v6(2) : v4(10, 0, 2, 15);
  s.src_port = 443;
  s.dst_port = 41000;
  s.seq = 0xfffffff0u;
  s.ack = 0x12345678u;
  s.flags = tcp_flag::ack | tcp_flag::psh;
  s.window = 65535;
  s.ttl = 64;
  return s;
}

udp_datagram_spec udp_spec(bool is_v6, std::span<const std::byte> payload) {
  udp_datagram_spec s;
  s.src_mac = gw_mac;
  s.dst_mac = child_mac;
  s.src = is_v6 ? v6(1) : v4(10, 0, 2, 3);
  s.dst = is_v6 ? v6(2) : v4(10, 0, 2, 15);
  s.src_port = 53;
  s.dst_port = 33333;
  s.payload = payload;
  return s;
}

}  // namespace

TEST_CASE("build TCP over IPv4: libtins decodes it, checksums verify", "[packet]") {
  tcp_segment_spec s = tcp_spec(false);
  s.flags = tcp_flag::syn | tcp_flag::ack;
  s.mss = 1460;
  s.wscale = 9;
  s.ttl = 42;
  const bytes data = text("hello");
  s.payload[0] = data;
  std::array<std::byte, max_header_size> hdr{};
  const std::size_t n = build_tcp_headers(s, hdr);
  REQUIRE(n == 14 + 20 + 28);
  const bytes f = wire(std::span(hdr).first(n), data);

  Tins::EthernetII eth(u8ptr(f), u32size(f));
  CHECK(eth.dst_addr() == Tins::HWAddress<6>("02:00:00:00:00:02"));
  CHECK(eth.src_addr() == Tins::HWAddress<6>("02:00:00:00:00:01"));
  const auto& ip = eth.rfind_pdu<Tins::IP>();
  CHECK(ip.src_addr() == Tins::IPv4Address("10.0.2.2"));
  CHECK(ip.dst_addr() == Tins::IPv4Address("10.0.2.15"));
  CHECK(ip.ttl() == 42);
  CHECK(ip.flags() == Tins::IP::DONT_FRAGMENT);
  CHECK(ip.fragment_offset() == 0);
  CHECK(ip.tot_len() == f.size() - 14);
  CHECK(ip.protocol() == proto_tcp);
  const auto& tcp = eth.rfind_pdu<Tins::TCP>();
  CHECK(tcp.sport() == 443);
  CHECK(tcp.dport() == 41000);
  CHECK(tcp.seq() == 0xfffffff0u);
  CHECK(tcp.ack_seq() == 0x12345678u);
  CHECK(tcp.flags() == (Tins::TCP::SYN | Tins::TCP::ACK));
  CHECK(tcp.window() == 65535);
  CHECK(tcp.data_offset() == 7);
  CHECK(tcp.mss() == 1460);
  CHECK(tcp.winscale() == 9);
  CHECK_FALSE(tcp.has_sack_permitted());
  const auto& raw = eth.rfind_pdu<Tins::RawPDU>();
  CHECK(std::string(raw.payload().begin(), raw.payload().end()) == "hello");
  CHECK(verify_ipv4_header(f) == 0);
  CHECK(verify_l4(f) == 0);

  // And our own parser reads back what we wrote.
  auto r = parse_frame(f);
  REQUIRE(r.has_value());
  CHECK(r->tcp.mss == s.mss);
  CHECK(r->tcp.wscale == s.wscale);
  CHECK(r->ttl == 42);
}

TEST_CASE("build TCP over IPv6 with each option combination", "[packet]") {
  for (int opts = 0; opts < 4; ++opts) {
    tcp_segment_spec s = tcp_spec(true);
    if ((opts & 1) != 0) s.mss = 1220;
    if ((opts & 2) != 0) s.wscale = 0;
    s.ttl = 255;
    std::array<std::byte, max_header_size> hdr{};
    const std::size_t n = build_tcp_headers(s, hdr);
    const std::size_t opt_len = ((opts & 1) != 0 ? 4u : 0u) + ((opts & 2) != 0 ? 4u : 0u);
    REQUIRE(n == 14 + 40 + 20 + opt_len);
    const bytes f = wire(std::span(hdr).first(n), {});
    INFO("options " << opts);
    Tins::EthernetII eth(u8ptr(f), u32size(f));
    const auto& ip = eth.rfind_pdu<Tins::IPv6>();
    CHECK(ip.src_addr() == Tins::IPv6Address("fd00::1"));
    CHECK(ip.dst_addr() == Tins::IPv6Address("fd00::2"));
    CHECK(ip.hop_limit() == 255);
    CHECK(ip.payload_length() == 20 + opt_len);
    CHECK(ip.next_header() == proto_tcp);
    const auto& tcp = eth.rfind_pdu<Tins::TCP>();
    CHECK(tcp.data_offset() == (20 + opt_len) / 4);
    CHECK(static_cast<bool>(tcp.search_option(Tins::TCP::MSS)) == ((opts & 1) != 0));
    CHECK(static_cast<bool>(tcp.search_option(Tins::TCP::WSCALE)) == ((opts & 2) != 0));
    if ((opts & 1) != 0) CHECK(tcp.mss() == 1220);
    if ((opts & 2) != 0) CHECK(tcp.winscale() == 0);
    CHECK(verify_l4(f) == 0);
    auto r = parse_frame(f);
    REQUIRE(r.has_value());
    CHECK(r->tcp.mss == s.mss);
    CHECK(r->tcp.wscale == s.wscale);
    CHECK(r->payload.empty());
  }
}

TEST_CASE("TCP checksum covers split payloads of any parity", "[packet]") {
  const bytes data = pattern(301, 3);
  const std::span<const std::byte> all(data);
  for (bool is_v6 : {false, true}) {
    for (std::size_t total : {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{7}, std::size_t{300},
                              std::size_t{301}}) {
      for (std::size_t split = 0; split <= total; split += (total > 20 ? 13 : 1)) {
        tcp_segment_spec s = tcp_spec(is_v6);
        s.payload[0] = all.first(split);
        s.payload[1] = all.subspan(split, total - split);
        std::array<std::byte, max_header_size> hdr{};
        const std::size_t n = build_tcp_headers(s, hdr);
        const bytes f = wire(std::span(hdr).first(n), s.payload[0], s.payload[1]);
        INFO("v6 " << is_v6 << " total " << total << " split " << split);
        REQUIRE(verify_l4(f) == 0);
        if (!is_v6) REQUIRE(verify_ipv4_header(f) == 0);
        auto r = parse_frame(f);
        REQUIRE(r.has_value());
        REQUIRE(r->payload.size() == total);
        Tins::EthernetII eth(u8ptr(f), u32size(f));
        if (total > 0) REQUIRE(eth.rfind_pdu<Tins::RawPDU>().payload_size() == total);
      }
    }
  }
}

TEST_CASE("build UDP over IPv4 and IPv6", "[packet]") {
  for (bool is_v6 : {false, true}) {
    for (std::size_t len : {std::size_t{0}, std::size_t{1}, std::size_t{512}, std::size_t{1001}}) {
      const bytes data = pattern(len, 11);
      udp_datagram_spec s = udp_spec(is_v6, data);
      s.ttl = 7;
      std::array<std::byte, max_header_size> hdr{};
      const std::size_t n = build_udp_headers(s, hdr);
      REQUIRE(n == (is_v6 ? 14u + 40u + 8u : 14u + 20u + 8u));
      const bytes f = wire(std::span(hdr).first(n), data);
      INFO("v6 " << is_v6 << " len " << len);
      Tins::EthernetII eth(u8ptr(f), u32size(f));
      const auto& udp = eth.rfind_pdu<Tins::UDP>();
      CHECK(udp.sport() == 53);
      CHECK(udp.dport() == 33333);
      CHECK(udp.length() == 8 + len);
      CHECK(udp.checksum() != 0);
      if (is_v6) {
        CHECK(eth.rfind_pdu<Tins::IPv6>().hop_limit() == 7);
      } else {
        CHECK(eth.rfind_pdu<Tins::IP>().ttl() == 7);
        CHECK(eth.rfind_pdu<Tins::IP>().flags() == Tins::IP::DONT_FRAGMENT);
        CHECK(verify_ipv4_header(f) == 0);
      }
      CHECK(verify_l4(f) == 0);
      auto r = parse_frame(f);
      REQUIRE(r.has_value());
      CHECK(r->kind == l4_kind::udp);
      CHECK(r->src == s.src);
      CHECK(r->dst == s.dst);
      CHECK(r->payload.size() == len);
    }
  }
}

TEST_CASE("a UDP checksum that computes to 0 is sent as 0xffff", "[packet]") {
  for (bool is_v6 : {false, true}) {
    bytes data = pattern(10, 5);
    udp_datagram_spec s;
    s.src = is_v6 ? v6(1) : v4(10, 0, 2, 3);
    s.dst = is_v6 ? v6(2) : v4(10, 0, 2, 15);
    s.src_port = 53;
    s.dst_port = 1000;
    // Choose the last payload word so the ones' complement sum is 0xffff.
    data[8] = std::byte{0};
    data[9] = std::byte{0};
    s.payload = data;
    std::array<std::byte, max_header_size> hdr{};
    std::size_t n = build_udp_headers(s, hdr);
    // With the word at zero the checksum is ~sum; adding word = ~sum makes
    // the sum 0xffff, so the computed checksum becomes 0.
    const std::uint16_t word = get16(hdr, n - 2);
    data[8] = std::byte{static_cast<std::uint8_t>(word >> 8)};
    data[9] = std::byte{static_cast<std::uint8_t>(word)};
    n = build_udp_headers(s, hdr);
    INFO("v6 " << is_v6);
    CHECK(get16(hdr, n - 2) == 0xffff);
    const bytes f = wire(std::span(hdr).first(n), data);
    CHECK(verify_l4(f) == 0);
  }
}

// A partial checksum (virtio-net NEEDS_CSUM) completed the way the receiving
// kernel completes it: sum from the L4 header to the end with the field as
// written, complement, store. The frame then verifies and equals the full build.
TEST_CASE("a partial TCP/UDP checksum completes to the full one", "[packet][offload]") {
  const bytes data = pattern(1001, 5);
  for (bool is_v6 : {false, true}) {
    for (bool is_udp : {false, true}) {
      INFO("v6 " << is_v6 << " udp " << is_udp);
      std::array<std::byte, max_header_size> full{}, part{};
      std::size_t n_full = 0, n_part = 0;
      if (is_udp) {
        udp_datagram_spec u = udp_spec(is_v6, data);
        n_full = build_udp_headers(u, full);
        u.partial_checksum = true;
        n_part = build_udp_headers(u, part);
      } else {
        tcp_segment_spec s = tcp_spec(is_v6);
        s.payload[0] = std::span<const std::byte>(data).first(400);
        s.payload[1] = std::span<const std::byte>(data).subspan(400);
        n_full = build_tcp_headers(s, full);
        s.partial_checksum = true;
        n_part = build_tcp_headers(s, part);
      }
      REQUIRE(n_full == n_part);
      bytes f = wire(std::span(part).first(n_part), data);
      const std::size_t l4 = 14 + (is_v6 ? 40 : 20);
      const std::size_t field = l4 + (is_udp ? 6 : 16);
      CHECK(verify_l4(wire(std::span(full).first(n_full), data)) == 0);
      const auto sum = checksum_fold(checksum_partial(std::span<const std::byte>(f).subspan(l4)));
      f[field] = std::byte{static_cast<std::uint8_t>(sum >> 8)};
      f[field + 1] = std::byte{static_cast<std::uint8_t>(sum)};
      CHECK(verify_l4(f) == 0);
      CHECK(f == wire(std::span(full).first(n_full), data));
    }
  }
}
