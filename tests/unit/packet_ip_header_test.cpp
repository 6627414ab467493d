// [packet] write_ip_headers, checksum_accumulator and the gather overloads of
// build_tcp_headers / build_udp_headers: libtins decodes the headers and the
// checksums are recomputed with the naive helper from packet_test_util.hpp.
#include <catch2/catch.hpp>

#include <tins/ethernetII.h>
#include <tins/ip.h>
#include <tins/ipv6.h>
#include <tins/rawpdu.h>
#include <tins/tcp.h>
#include <tins/udp.h>

#include <array>
#include <vector>

#include "net/packet/ip_header.hpp"
#include "tests/unit/packet_test_util.hpp"

using namespace netpen::packet;
using namespace packet_test;

namespace {

bytes pattern(std::size_t n, unsigned seed) {
  bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = std::byte{static_cast<std::uint8_t>(i * 13u + seed)};
  return b;
}

bytes joined(std::span<const std::byte> head, std::span<const std::span<const std::byte>> pieces) {
  bytes out(head.begin(), head.end());
  for (const auto& p : pieces) out.insert(out.end(), p.begin(), p.end());
  return out;
}

}  // namespace

TEST_CASE("write_ip_headers: IPv4 with TOS, no DF, libtins decodes it", "[packet]") {
  std::array<std::byte, max_ip_headers_size> out{};
  const auto w = write_ip_headers({.src_mac = {2, 0, 0, 0, 0, 1}, .dst_mac = {2, 0, 0, 0, 0, 2},
                                   .src = v4(10, 0, 0, 1), .dst = v4(10, 0, 0, 2), .protocol = 200, .ttl = 9,
                                   .tos = 0xc0, .dont_fragment = false},
                                  6, out);
  REQUIRE(w.size == 34);
  bytes f(out.begin(), out.begin() + 34);
  const bytes l4 = text("abcdef");
  f.insert(f.end(), l4.begin(), l4.end());
  Tins::EthernetII eth(u8ptr(f), u32size(f));
  CHECK(eth.src_addr() == Tins::HWAddress<6>("02:00:00:00:00:01"));
  CHECK(eth.dst_addr() == Tins::HWAddress<6>("02:00:00:00:00:02"));
  const auto& ip = eth.rfind_pdu<Tins::IP>();
  CHECK(ip.tos() == 0xc0);
  CHECK(ip.flags() == 0);
  CHECK(ip.ttl() == 9);
  CHECK(ip.protocol() == 200);
  CHECK(ip.tot_len() == 26);
  CHECK(ip.src_addr() == Tins::IPv4Address("10.0.0.1"));
  CHECK(verify_ipv4_header(f) == 0);
  // The pseudo-header sum: source, destination, protocol, L4 length.
  bytes pseudo = {std::byte{10}, std::byte{0}, std::byte{0}, std::byte{1}, std::byte{10}, std::byte{0},
                  std::byte{0},  std::byte{2}, std::byte{0}, std::byte{200}, std::byte{0}, std::byte{6}};
  CHECK(checksum_fold(w.pseudo_sum) == naive_checksum(pseudo));
}

TEST_CASE("write_ip_headers: IPv6 with a traffic class", "[packet]") {
  std::array<std::byte, max_ip_headers_size> out{};
  const auto w =
      write_ip_headers({.src = v6(1), .dst = v6(2), .protocol = proto_icmpv6, .ttl = 255, .tos = 0xab}, 70000, out);
  REQUIRE(w.size == 54);
  const bytes f(out.begin(), out.end());
  CHECK(get16(f, 12) == ethertype_ipv6);
  CHECK(get8(f, 14) == 0x6a);  // version 6, traffic class high nibble
  CHECK(get8(f, 15) == 0xb0);  // traffic class low nibble, flow label 0
  CHECK(get8(f, 20) == proto_icmpv6);
  CHECK(get8(f, 21) == 255);
  bytes pseudo(f.begin() + 22, f.begin() + 54);
  for (const unsigned v : {0u, 1u, 0x11u, 0x70u, 0u, 0u, 0u, 58u}) pseudo.push_back(std::byte{static_cast<std::uint8_t>(v)});
  CHECK(checksum_fold(w.pseudo_sum) == naive_checksum(pseudo));
}

TEST_CASE("checksum_accumulator: pieces of any parity sum like one buffer", "[packet]") {
  const bytes data = pattern(257, 5);
  const std::span<const std::byte> all(data);
  for (std::size_t a = 0; a <= data.size(); a += 17) {
    for (std::size_t b = a; b <= data.size(); b += 31) {
      checksum_accumulator acc{0x1234};
      acc.add(all.first(a));
      acc.add(all.subspan(a, b - a));
      acc.add(all.subspan(b));
      INFO("splits " << a << " " << b);
      CHECK(acc.result() == checksum_fold(checksum_partial(all, 0x1234)));
    }
  }
}

TEST_CASE("build_tcp_headers / build_udp_headers over many payload pieces", "[packet]") {
  const bytes data = pattern(1001, 9);
  const std::span<const std::byte> all(data);
  const std::vector<std::span<const std::byte>> pieces = {all.first(3), all.subspan(3, 0), all.subspan(3, 500),
                                                          all.subspan(503, 1), all.subspan(504)};
  for (const bool is_v6 : {false, true}) {
    INFO("v6 " << is_v6);
    std::array<std::byte, max_header_size> hdr{};
    tcp_segment_spec t;
    t.src = is_v6 ? v6(1) : v4(10, 0, 0, 1);
    t.dst = is_v6 ? v6(2) : v4(10, 0, 0, 2);
    t.src_port = 1;
    t.dst_port = 2;
    t.flags = tcp_flag::psh | tcp_flag::ack;
    t.payload[0] = all.first(10);  // ignored by the gather overload
    const bytes tf = joined(std::span(hdr).first(build_tcp_headers(t, pieces, hdr)), pieces);
    CHECK(verify_l4(tf) == 0);
    Tins::EthernetII teth(u8ptr(tf), u32size(tf));
    CHECK(teth.rfind_pdu<Tins::RawPDU>().payload_size() == data.size());

    udp_datagram_spec u;
    u.src = t.src;
    u.dst = t.dst;
    u.src_port = 53;
    u.dst_port = 5353;
    const bytes uf = joined(std::span(hdr).first(build_udp_headers(u, pieces, hdr)), pieces);
    CHECK(verify_l4(uf) == 0);
    Tins::EthernetII ueth(u8ptr(uf), u32size(uf));
    CHECK(ueth.rfind_pdu<Tins::UDP>().length() == 8 + data.size());
    if (!is_v6) CHECK(verify_ipv4_header(uf) == 0);
  }
}
