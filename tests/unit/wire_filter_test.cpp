// [wire] The wire-egress kernel filter: programs run by a small cBPF
// interpreter against crafted IPv4/IPv6 TCP/UDP/ICMP packets (direction,
// foreign ports, fragments, extension headers, long lists, the coarse
// fallback), checked against wire_socket_of, and accepted by the kernel's
// own checker (SO_ATTACH_FILTER on an unprivileged UDP socket).
#include <catch2/catch.hpp>

#include <linux/if_ether.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>
#include <set>
#include <vector>

#include "capture/wire_filter.hpp"
#include "net/packet/frame.hpp"
#include "tests/unit/cbpf_interpreter.hpp"

namespace cap = netpen::capture;
namespace pk = netpen::packet;

namespace {

using bytes = std::vector<std::byte>;
constexpr std::uint32_t snaplen = 262144;
constexpr std::uint32_t host = cap::pkttype_host;
constexpr std::uint32_t outgoing = cap::pkttype_outgoing;

void put8(bytes& b, std::size_t at, unsigned v) { b[at] = std::byte{static_cast<std::uint8_t>(v & 0xffu)}; }
void put16(bytes& b, std::size_t at, unsigned v) {
  put8(b, at, v >> 8);
  put8(b, at + 1, v);
}

bytes tcp(unsigned sport, unsigned dport) {
  bytes b(20);
  put16(b, 0, sport);
  put16(b, 2, dport);
  put8(b, 12, 5u << 4);
  put8(b, 13, pk::tcp_flag::syn);
  return b;
}
bytes udp(unsigned sport, unsigned dport) {
  bytes b(12);
  put16(b, 0, sport);
  put16(b, 2, dport);
  put16(b, 4, 12);
  return b;
}
bytes icmp(unsigned type, unsigned id) {
  bytes b(16);
  put8(b, 0, type);
  put16(b, 4, id);
  put16(b, 6, 1);
  return b;
}

struct v4_options {
  unsigned fragment = 0;  // flags + offset field
  unsigned option_words = 0;
};

// 192.0.2.1 (us) and 198.51.100.7 (them); `to_us` swaps them.
bytes ipv4(std::uint8_t protocol, const bytes& l4, bool to_us = false, v4_options o = {}) {
  const std::size_t ihl = 20 + 4 * o.option_words;
  bytes b(ihl);
  put8(b, 0, 0x40u | (5 + o.option_words));
  put16(b, 2, static_cast<unsigned>(ihl + l4.size()));
  put16(b, 6, o.fragment);
  put8(b, 8, 64);
  put8(b, 9, protocol);
  const std::uint8_t us[] = {192, 0, 2, 1}, them[] = {198, 51, 100, 7};
  for (std::size_t i = 0; i < 4; ++i) {
    put8(b, 12 + i, to_us ? them[i] : us[i]);
    put8(b, 16 + i, to_us ? us[i] : them[i]);
  }
  b.insert(b.end(), l4.begin(), l4.end());
  return b;
}

// 2001:db8::1 (us) and 2001:db8::7 (them); `hop_by_hop` puts an 8-byte
// extension header before the L4 header.
bytes ipv6(std::uint8_t next, const bytes& l4, bool to_us = false, bool hop_by_hop = false) {
  bytes b(40);
  put8(b, 0, 0x60);
  put16(b, 4, static_cast<unsigned>(l4.size() + (hop_by_hop ? 8 : 0)));
  put8(b, 6, hop_by_hop ? 0 : next);
  put8(b, 7, 64);
  for (std::size_t a : {8u, 24u}) {
    put16(b, a, 0x2001);
    put16(b, a + 2, 0x0db8);
  }
  put8(b, to_us ? 39 : 23, 1);
  put8(b, to_us ? 23 : 39, 7);
  if (hop_by_hop) {
    bytes ext(8);
    put8(ext, 0, next);
    put8(ext, 2, 1);  // PadN over the remaining 6 bytes
    put8(ext, 3, 4);
    b.insert(b.end(), ext.begin(), ext.end());
  }
  b.insert(b.end(), l4.begin(), l4.end());
  return b;
}

// Runs the program and checks it agrees with wire_socket_of: whatever an
// exact program accepts is a packet whose socket key has a port in `ports`.
bool accepts(const cap::wire_filter& f, const bytes& pkt, std::uint32_t pkttype, std::uint16_t ethertype = 0) {
  if (ethertype == 0) ethertype = (std::to_integer<unsigned>(pkt[0]) >> 4) == 6 ? ETH_P_IPV6 : ETH_P_IP;
  const auto r = cbpf_test::run(f.program, pkt, {.ethertype = ethertype, .pkttype = pkttype});
  REQUIRE((r.value == 0 || r.value == snaplen));
  if (r.value != 0) CHECK(cap::wire_socket_of(pkt, pkttype == outgoing).has_value());
  return r.value == snaplen;
}

cap::wire_filter build(const cap::wire_ports& p, std::size_t max = BPF_MAXINSNS) {
  auto f = cap::build_wire_filter(p, snaplen, max);
  cbpf_test::check_program(f.program);
  return f;
}

std::size_t longest_jump(const std::vector<sock_filter>& prog) {
  std::size_t longest = 0;
  for (const auto& in : prog)
    if (BPF_CLASS(in.code) == BPF_JMP && BPF_OP(in.code) == BPF_JA) longest = std::max<std::size_t>(longest, in.k);
  return longest;
}

// 0 when the kernel's checker accepts the program on an ordinary UDP
// socket (no privilege needed), else the errno.
int kernel_verdict(const std::vector<sock_filter>& prog) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sock_fprog fprog{static_cast<unsigned short>(prog.size()), const_cast<sock_filter*>(prog.data())};
  const int rc = ::setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog);
  const int err = rc == 0 ? 0 : errno;
  ::close(fd);
  return err;
}

std::vector<std::uint16_t> spread_ports(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::set<std::uint16_t> s;
  while (s.size() < n) s.insert(static_cast<std::uint16_t>(1024 + rng() % 64000));
  return {s.begin(), s.end()};
}

}  // namespace

TEST_CASE("wire filter: TCP by direction, IPv4 and IPv6", "[wire]") {
  const auto f = build({.tcp = {40000, 40001}, .udp = {}, .icmp_ids = {}, .icmpv6_ids = {}});
  CHECK(f.exact());
  for (const bool v6 : {false, true}) {
    INFO("v6 " << v6);
    auto ip = [v6](const bytes& l4, bool to_us) { return v6 ? ipv6(pk::proto_tcp, l4, to_us) : ipv4(pk::proto_tcp, l4, to_us); };
    // Ours: sent from our port, received on it.
    CHECK(accepts(f, ip(tcp(40000, 443), false), outgoing));
    CHECK(accepts(f, ip(tcp(443, 40001), true), host));
    // A foreign socket whose remote port is one of our local ports.
    CHECK_FALSE(accepts(f, ip(tcp(5555, 40000), false), outgoing));
    CHECK_FALSE(accepts(f, ip(tcp(40000, 5555), true), host));
    // Foreign ports.
    CHECK_FALSE(accepts(f, ip(tcp(40002, 443), false), outgoing));
    CHECK_FALSE(accepts(f, ip(tcp(443, 39999), true), host));
    // Neither sent nor for this host: broadcast, multicast, promiscuous, looped multicast.
    for (const std::uint32_t t : {1u, 2u, 3u, 5u}) CHECK_FALSE(accepts(f, ip(tcp(443, 40000), true), t));
    // The same ports in UDP are not ours.
    CHECK_FALSE(accepts(f, v6 ? ipv6(pk::proto_udp, udp(40000, 53)) : ipv4(pk::proto_udp, udp(40000, 53)), outgoing));
  }
}

TEST_CASE("wire filter: the userspace twin names the socket", "[wire]") {
  const auto out = cap::wire_socket_of(ipv4(pk::proto_tcp, tcp(40000, 443)), true);
  REQUIRE(out);
  CHECK(out->protocol == pk::proto_tcp);
  CHECK(out->local_port == 40000);
  CHECK(out->remote_port == 443);
  CHECK_FALSE(out->remote.v6);
  CHECK(out->remote.bytes == std::array<std::uint8_t, 16>{198, 51, 100, 7});

  const auto in = cap::wire_socket_of(ipv6(pk::proto_udp, udp(53, 40000), true), false);
  REQUIRE(in);
  CHECK(in->protocol == pk::proto_udp);
  CHECK(in->local_port == 40000);
  CHECK(in->remote_port == 53);
  CHECK(in->remote.v6);
  CHECK(in->remote.bytes[15] == 7);

  const auto ping = cap::wire_socket_of(ipv4(pk::proto_icmp, icmp(0, 77), true), false);
  REQUIRE(ping);
  CHECK(ping->local_port == 77);
  CHECK(ping->remote_port == 0);
  CHECK(ping->remote.bytes[3] == 7);

  CHECK_FALSE(cap::wire_socket_of(ipv4(pk::proto_icmp, icmp(8, 77), true), false));      // a request to us
  CHECK_FALSE(cap::wire_socket_of(ipv4(pk::proto_icmpv6, icmp(128, 77)), true));          // ICMPv6 in IPv4
  CHECK_FALSE(cap::wire_socket_of(ipv6(pk::proto_tcp, tcp(1, 2), false, true), true));   // extension header
  CHECK_FALSE(cap::wire_socket_of(ipv4(pk::proto_tcp, tcp(1, 2), false, {.fragment = 0x20, .option_words = 0}), true));
  const auto truncated = ipv4(pk::proto_tcp, tcp(1, 2));
  CHECK_FALSE(cap::wire_socket_of(std::span(truncated).first(22), true));
  CHECK_FALSE(cap::wire_socket_of({}, true));
}

TEST_CASE("wire filter: UDP, fragments, IPv4 options, IPv6 extension headers", "[wire]") {
  const auto f = build({.tcp = {}, .udp = {5353, 40000}, .icmp_ids = {}, .icmpv6_ids = {}});
  CHECK(accepts(f, ipv4(pk::proto_udp, udp(40000, 53)), outgoing));
  CHECK(accepts(f, ipv4(pk::proto_udp, udp(53, 5353), true), host));
  CHECK(accepts(f, ipv6(pk::proto_udp, udp(53, 40000), true), host));
  CHECK_FALSE(accepts(f, ipv4(pk::proto_tcp, tcp(40000, 53)), outgoing));

  // A first fragment (MF set, offset 0) carries the ports; later ones do not.
  CHECK(accepts(f, ipv4(pk::proto_udp, udp(40000, 53), false, {.fragment = 0x2000, .option_words = 0}), outgoing));
  CHECK_FALSE(accepts(f, ipv4(pk::proto_udp, udp(40000, 53), false, {.fragment = 0x2000 | 185, .option_words = 0}),
                      outgoing));
  CHECK_FALSE(accepts(f, ipv4(pk::proto_udp, udp(40000, 53), false, {.fragment = 1, .option_words = 0}), outgoing));
  // DF alone is not a fragment.
  CHECK(accepts(f, ipv4(pk::proto_udp, udp(40000, 53), false, {.fragment = 0x4000, .option_words = 0}), outgoing));

  // IPv4 options move the ports: the filter follows the IHL.
  CHECK(accepts(f, ipv4(pk::proto_udp, udp(40000, 53), false, {.fragment = 0, .option_words = 3}), outgoing));
  CHECK_FALSE(accepts(f, ipv4(pk::proto_udp, udp(40001, 53), false, {.fragment = 0, .option_words = 3}), outgoing));

  // IPv6 with an extension header before UDP is not followed.
  CHECK_FALSE(accepts(f, ipv6(pk::proto_udp, udp(40000, 53), false, true), outgoing));

  // Neither IPv4 nor IPv6 by ethertype (ARP), whatever the bytes say.
  CHECK_FALSE(accepts(f, ipv4(pk::proto_udp, udp(40000, 53)), outgoing, ETH_P_ARP));
  // Truncated: the port load runs past the end.
  const auto whole = ipv4(pk::proto_udp, udp(40000, 53));
  const bytes cut(whole.begin(), whole.begin() + 21);
  CHECK(cbpf_test::run(f.program, cut, {.ethertype = ETH_P_IP, .pkttype = outgoing}).value == 0);
}

TEST_CASE("wire filter: ICMP and ICMPv6 echo by identifier and direction", "[wire]") {
  const auto f = build({.tcp = {}, .udp = {}, .icmp_ids = {77}, .icmpv6_ids = {99}});
  CHECK(accepts(f, ipv4(pk::proto_icmp, icmp(8, 77)), outgoing));
  CHECK(accepts(f, ipv4(pk::proto_icmp, icmp(0, 77), true), host));
  CHECK_FALSE(accepts(f, ipv4(pk::proto_icmp, icmp(0, 77)), outgoing));      // a reply we send: someone pinged us
  CHECK_FALSE(accepts(f, ipv4(pk::proto_icmp, icmp(8, 77), true), host));    // a request to us
  CHECK_FALSE(accepts(f, ipv4(pk::proto_icmp, icmp(8, 78)), outgoing));
  CHECK_FALSE(accepts(f, ipv4(pk::proto_icmp, icmp(3, 77), true), host));    // unreachable
  CHECK_FALSE(accepts(f, ipv4(pk::proto_icmp, icmp(8, 99)), outgoing));      // an ICMPv6 id, in ICMP

  CHECK(accepts(f, ipv6(pk::proto_icmpv6, icmp(128, 99)), outgoing));
  CHECK(accepts(f, ipv6(pk::proto_icmpv6, icmp(129, 99), true), host));
  CHECK_FALSE(accepts(f, ipv6(pk::proto_icmpv6, icmp(129, 99)), outgoing));
  CHECK_FALSE(accepts(f, ipv6(pk::proto_icmpv6, icmp(128, 99), true), host));
  CHECK_FALSE(accepts(f, ipv6(pk::proto_icmpv6, icmp(128, 77)), outgoing));
  CHECK_FALSE(accepts(f, ipv6(pk::proto_icmpv6, icmp(135, 99)), outgoing));  // neighbor solicitation
  CHECK_FALSE(accepts(f, ipv6(pk::proto_icmp, icmp(8, 77)), outgoing));      // protocol 1 over IPv6
  CHECK_FALSE(accepts(f, ipv4(pk::proto_icmpv6, icmp(128, 99)), outgoing));  // protocol 58 over IPv4
  // ICMP ids are not TCP ports.
  CHECK_FALSE(accepts(f, ipv4(pk::proto_tcp, tcp(77, 80)), outgoing));
}

TEST_CASE("wire filter: empty sets accept nothing", "[wire]") {
  const auto f = build({});
  CHECK(f.exact());
  CHECK(f.program.size() == 1);
  CHECK_FALSE(accepts(f, ipv4(pk::proto_tcp, tcp(40000, 443)), outgoing));
  CHECK_FALSE(accepts(f, ipv6(pk::proto_udp, udp(53, 40000), true), host));
  CHECK(kernel_verdict(f.program) == 0);
  CHECK(kernel_verdict(cap::reject_all_filter()) == 0);
}

TEST_CASE("wire filter: duplicates and order do not matter", "[wire]") {
  const auto a = build({.tcp = {3, 1, 2, 2, 1}, .udp = {}, .icmp_ids = {}, .icmpv6_ids = {}});
  const auto b = build({.tcp = {1, 2, 3}, .udp = {}, .icmp_ids = {}, .icmpv6_ids = {}});
  REQUIRE(a.program.size() == b.program.size());
  CHECK(std::equal(a.program.begin(), a.program.end(), b.program.begin(), [](const sock_filter& x, const sock_filter& y) {
    return x.code == y.code && x.jt == y.jt && x.jf == y.jf && x.k == y.k;
  }));
  // Port 0 and 65535 are ordinary values.
  const auto edges = build({.tcp = {0, 65535}, .udp = {}, .icmp_ids = {}, .icmpv6_ids = {}});
  CHECK(accepts(edges, ipv4(pk::proto_tcp, tcp(0, 1)), outgoing));
  CHECK(accepts(edges, ipv4(pk::proto_tcp, tcp(1, 65535), true), host));
  CHECK_FALSE(accepts(edges, ipv4(pk::proto_tcp, tcp(65534, 1)), outgoing));
}

TEST_CASE("wire filter: 1500 ports in each protocol, every port checked", "[wire]") {
  const auto tcp_ports = spread_ports(1500, 1), udp_ports = spread_ports(1200, 2);
  const auto f = build({.tcp = tcp_ports, .udp = udp_ports, .icmp_ids = {}, .icmpv6_ids = {}});
  CHECK(f.exact());
  CHECK(f.program.size() <= BPF_MAXINSNS);
  CHECK(longest_jump(f.program) > 255);  // the tree needed `ja` to reach past long halves
  INFO("instructions: " << f.program.size());

  const std::set<std::uint16_t> tcp_set(tcp_ports.begin(), tcp_ports.end());
  std::size_t most = 0;
  for (unsigned port = 0; port < 65536; ++port) {
    const bool ours = tcp_set.contains(static_cast<std::uint16_t>(port));
    const auto out_pkt = ipv4(pk::proto_tcp, tcp(port, 443));
    const auto r = cbpf_test::run(f.program, out_pkt, {.ethertype = ETH_P_IP, .pkttype = outgoing});
    most = std::max(most, r.executed);
    if ((r.value == snaplen) != ours) FAIL("tcp out port " << port);
    const auto in_pkt = ipv6(pk::proto_tcp, tcp(443, port), true);
    if ((cbpf_test::run(f.program, in_pkt, {.ethertype = ETH_P_IPV6, .pkttype = host}).value == snaplen) != ours)
      FAIL("tcp in port " << port);
  }
  // A search tree, not a scan: a few dozen instructions per packet.
  CHECK(most < 50);
  for (const auto port : udp_ports) CHECK(accepts(f, ipv4(pk::proto_udp, udp(port, 53)), outgoing));
  CHECK(kernel_verdict(f.program) == 0);
}

TEST_CASE("wire filter: instruction cost per port and the exact limit", "[wire]") {
  // The largest TCP-only set that stays exact.
  std::size_t lo = 1, hi = 8000;
  while (lo < hi) {
    const auto mid = (lo + hi + 1) / 2;
    if (cap::build_wire_filter({.tcp = spread_ports(mid, 3), .udp = {}, .icmp_ids = {}, .icmpv6_ids = {}}, snaplen).exact())
      lo = mid;
    else
      hi = mid - 1;
  }
  INFO("largest exact TCP set: " << lo << " ports");
  CHECK(lo >= 3000);
  const auto at_limit = build({.tcp = spread_ports(lo, 3), .udp = {}, .icmp_ids = {}, .icmpv6_ids = {}});
  CHECK(at_limit.exact());
  CHECK(kernel_verdict(at_limit.program) == 0);
  const auto small = build({.tcp = spread_ports(1000, 4), .udp = {}, .icmp_ids = {}, .icmpv6_ids = {}});
  INFO("1000 TCP ports: " << small.program.size() << " instructions");
  CHECK(small.program.size() < 1300);
}

TEST_CASE("wire filter: sets too big fall back to coarse, largest first", "[wire]") {
  const auto tcp_ports = spread_ports(5000, 5);
  const auto f = build({.tcp = tcp_ports, .udp = {53, 40000}, .icmp_ids = {7}, .icmpv6_ids = {}});
  REQUIRE_FALSE(f.exact());
  CHECK(f.coarse == std::vector<std::uint8_t>{pk::proto_tcp});
  CHECK(f.program.size() < 100);
  // Coarse TCP: any port, still by direction and still not other hosts' traffic.
  CHECK(accepts(f, ipv4(pk::proto_tcp, tcp(1, 2)), outgoing));
  CHECK(accepts(f, ipv6(pk::proto_tcp, tcp(2, 1), true), host));
  CHECK_FALSE(accepts(f, ipv4(pk::proto_tcp, tcp(2, 1), true), 3));
  CHECK_FALSE(accepts(f, ipv4(pk::proto_tcp, tcp(1, 2), false, {.fragment = 100, .option_words = 0}), outgoing));
  // UDP and ICMP stay exact.
  CHECK(accepts(f, ipv4(pk::proto_udp, udp(40000, 53)), outgoing));
  CHECK_FALSE(accepts(f, ipv4(pk::proto_udp, udp(40001, 53)), outgoing));
  CHECK(accepts(f, ipv4(pk::proto_icmp, icmp(8, 7)), outgoing));
  CHECK_FALSE(accepts(f, ipv4(pk::proto_icmp, icmp(8, 8)), outgoing));
  CHECK(kernel_verdict(f.program) == 0);

  // Two big sets: TCP alone going coarse is enough when UDP then fits.
  const auto g = build({.tcp = spread_ports(3000, 6), .udp = spread_ports(2000, 7), .icmp_ids = {}, .icmpv6_ids = {}});
  CHECK(g.coarse == std::vector<std::uint8_t>{pk::proto_tcp});
  CHECK(g.program.size() <= BPF_MAXINSNS);
  CHECK(kernel_verdict(g.program) == 0);

  // A small budget (what the tap uses when the kernel refuses the memory)
  // makes everything coarse; ICMP still checks type and direction.
  const auto h = build({.tcp = {1}, .udp = {2}, .icmp_ids = {3}, .icmpv6_ids = {4}}, 20);
  CHECK(h.coarse.size() == 4);
  CHECK(accepts(h, ipv4(pk::proto_udp, udp(9, 9)), outgoing));
  CHECK(accepts(h, ipv4(pk::proto_icmp, icmp(8, 9)), outgoing));
  CHECK_FALSE(accepts(h, ipv4(pk::proto_icmp, icmp(8, 9), true), host));
  CHECK(accepts(h, ipv6(pk::proto_icmpv6, icmp(129, 9), true), host));
  CHECK_FALSE(accepts(h, ipv6(pk::proto_tcp, tcp(9, 9), false, true), outgoing));
  CHECK(kernel_verdict(h.program) == 0);
}

TEST_CASE("wire filter: the kernel checker is real", "[wire]") {
  // A jump past the end and an over-long program are refused, so the
  // verdicts above mean something.
  std::vector<sock_filter> bad{{BPF_JMP | BPF_JA, 0, 0, 5}, {BPF_RET | BPF_K, 0, 0, 0}};
  CHECK(kernel_verdict(bad) == EINVAL);
  std::vector<sock_filter> too_long(BPF_MAXINSNS + 1, sock_filter{BPF_RET | BPF_K, 0, 0, 0});
  CHECK(kernel_verdict(too_long) == EINVAL);
  for (const std::size_t n : {1u, 10u, 100u, 1000u}) {
    const auto f = build({.tcp = spread_ports(n, 8), .udp = spread_ports(n, 9), .icmp_ids = spread_ports(n / 10 + 1, 10),
                          .icmpv6_ids = spread_ports(n / 10 + 1, 11)});
    INFO(n << " ports: " << f.program.size() << " instructions");
    CHECK(f.exact());
    CHECK(kernel_verdict(f.program) == 0);
  }
}
