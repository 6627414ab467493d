// Deterministic fuzzing of net/packet parse_frame (and the neighbour
// answerer behind it): random bytes and random mutations of valid frames
// must never crash, throw or read out of bounds (run under ASan to see).
#include <catch2/catch.hpp>

#include <random>

#include <tins/arp.h>
#include <tins/ethernetII.h>
#include <tins/icmpv6.h>
#include <tins/ip.h>
#include <tins/ipv6.h>
#include <tins/rawpdu.h>
#include <tins/tcp.h>
#include <tins/udp.h>

#include "net/packet/frame.hpp"
#include "net/packet/neighbor.hpp"
#include "tests/unit/packet_test_util.hpp"

using namespace netpen::packet;
using namespace packet_test;

namespace {

std::vector<bytes> seeds() {
  const Tins::HWAddress<6> a("02:00:00:00:00:01");
  const Tins::HWAddress<6> b("02:00:00:00:00:02");
  std::vector<bytes> out;
  {
    Tins::TCP tcp(80, 1234);
    tcp.mss(1400);
    tcp.winscale(3);
    tcp.sack_permitted();
    auto p = Tins::EthernetII(a, b) / Tins::IP("10.0.2.2", "10.0.2.15") / tcp / Tins::RawPDU("abcdef");
    out.push_back(serialize(p));
  }
  {
    auto p = Tins::EthernetII(a, b) / Tins::IPv6("fd00::1", "fd00::2") / Tins::UDP(53, 999) / Tins::RawPDU("q");
    out.push_back(serialize(p));
  }
  {
    Tins::TCP tcp(443, 5555);
    tcp.timestamp(1, 2);
    auto p = Tins::EthernetII(a, b) / Tins::IPv6("fd00::1", "fd00::2") / tcp;
    out.push_back(serialize(p));
  }
  {
    Tins::ICMPv6 ns(Tins::ICMPv6::NEIGHBOUR_SOLICIT);
    ns.target_addr("fd00::1");
    ns.source_link_layer_addr(b);
    Tins::IPv6 ip("ff02::1:ff00:1", "fd00::2");
    ip.hop_limit(255);
    auto p = Tins::EthernetII(a, b) / ip / ns;
    out.push_back(serialize(p));
  }
  {
    Tins::EthernetII p = Tins::ARP::make_arp_request("10.0.2.2", "10.0.2.15", b);
    out.push_back(serialize(p));
  }
  return out;
}

// Parses `f` from an exact-size heap copy and, when it parses, runs the
// neighbour answerer on it; returns whether parsing succeeded.
bool exercise(const bytes& f) {
  const bytes copy = f;
  auto r = parse_frame(copy);
  if (!r) return false;
  // Spans must lie inside the input.
  const auto inside = [&](std::span<const std::byte> s) {
    return s.empty() || (s.data() >= copy.data() && s.data() + s.size() <= copy.data() + copy.size());
  };
  REQUIRE(inside(r->ip_packet));
  REQUIRE(inside(r->l4));
  REQUIRE(inside(r->payload));
  (void)answer_neighbor_solicitation(*r, copy, mac_address{2, 0, 0, 0, 0, 1}, v4(10, 0, 2, 2), v6(1));
  return true;
}

}  // namespace

TEST_CASE("fuzz: random bytes never crash the parser", "[packet][fuzz]") {
  std::mt19937 rng(20240601);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<std::size_t> len(0, 160);
  const unsigned ethertypes[] = {0x0800, 0x86dd, 0x0806, 0x1234};
  for (int i = 0; i < 4000; ++i) {
    bytes f(len(rng));
    for (auto& x : f) x = std::byte{static_cast<std::uint8_t>(byte(rng))};
    // Steer most inputs to the interesting ethertypes and IP versions.
    if (f.size() >= 15 && i % 4 != 0) {
      const unsigned et = ethertypes[static_cast<std::size_t>(i) % 4];
      set16(f, 12, et);
      set8(f, 14, (et == 0x86dd ? 0x60u : 0x45u) | (get8(f, 14) & 0x0fu & (i % 3 == 0 ? 0x0fu : 0x00u)));
    }
    exercise(f);
  }
}

TEST_CASE("fuzz: mutated valid frames never crash the parser", "[packet][fuzz]") {
  std::mt19937 rng(7);
  const auto base = seeds();
  for (const auto& s : base) REQUIRE(exercise(s));
  std::size_t parsed = 0;
  for (int i = 0; i < 6000; ++i) {
    bytes f = base[static_cast<std::size_t>(i) % base.size()];
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) {
      const std::size_t at = rng() % f.size();
      switch (rng() % 3) {
        case 0: f[at] = std::byte{static_cast<std::uint8_t>(rng())}; break;
        case 1: f[at] ^= std::byte{static_cast<std::uint8_t>(1u << (rng() % 8))}; break;
        default: f[at] = std::byte{static_cast<std::uint8_t>(rng() % 2 == 0 ? 0x00 : 0xff)}; break;
      }
    }
    if (rng() % 4 == 0) f.resize(rng() % (f.size() + 1));
    if (exercise(f)) ++parsed;
  }
  CHECK(parsed > 0);  // some mutations (payload bytes, L4 fields) still parse
}
