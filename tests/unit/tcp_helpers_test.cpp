// TCP endpoint building blocks: modular sequence arithmetic, the fixed
// byte ring, the RFC 6298 RTT estimator, and state names.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "net/tcp/byte_ring.hpp"
#include "net/tcp/rtt_estimator.hpp"
#include "net/tcp/seq.hpp"
#include "net/tcp/tcp_endpoint.hpp"

using namespace std::chrono_literals;
namespace seq = netpen::tcp::seq;

TEST_CASE("sequence comparisons wrap modulo 2^32", "[tcp]") {
  CHECK(seq::lt(0xfffffff0u, 0x10u));
  CHECK(seq::gt(0x10u, 0xfffffff0u));
  CHECK(seq::le(7u, 7u));
  CHECK_FALSE(seq::lt(7u, 7u));
  CHECK(seq::in_range(0x2u, 0xfffffffeu, 0x5u));
  CHECK_FALSE(seq::in_range(0x5u, 0xfffffffeu, 0x5u));
  CHECK(seq::add(0xffffffffu, 2) == 1u);
  CHECK(seq::span(1u, 0xffffffffu) == 2);
  CHECK(seq::max(0xfffffff0u, 3u) == 3u);
  CHECK(seq::diff(0u, 0x80000001u) == 0x7fffffff);
}

TEST_CASE("byte ring wraps, exposes two spans and never grows", "[tcp]") {
  netpen::tcp::byte_ring r(10);
  std::vector<std::byte> in(7);
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<std::byte>(i + 1);
  CHECK(r.write(in) == 7);
  r.consume(5);
  CHECK(r.size() == 2);
  CHECK(r.free() == 8);
  CHECK(r.write(in) == 7);
  CHECK(r.write(in) == 1);  // full
  CHECK(r.free() == 0);
  auto spans = r.readable();
  CHECK(spans[0].size() == 5);  // offsets 5..9
  CHECK(spans[1].size() == 5);  // offsets 0..4
  CHECK(spans[0][0] == std::byte{6});
  CHECK(spans[0][2] == std::byte{1});
  CHECK(spans[1][4] == std::byte{1});
  auto mid = r.peek(3, 4);
  CHECK(mid[0].size() == 2);
  CHECK(mid[1].size() == 2);
  CHECK(mid[0][0] == std::byte{2});
  CHECK(mid[1][0] == std::byte{4});
  r.consume(100);
  CHECK(r.empty());
  auto w = r.writable();  // the tail stays put even when the ring empties
  CHECK(w[0].size() == 5);
  CHECK(w[1].size() == 5);
}

TEST_CASE("RTT estimator follows RFC 6298", "[tcp]") {
  netpen::tcp::rtt_estimator e(1s, 1ms, 60s);
  CHECK(e.rto() == 1s);
  CHECK_FALSE(e.has_sample());
  e.sample(100ms);
  CHECK(e.srtt() == 100ms);
  CHECK(e.rttvar() == 50ms);
  CHECK(e.rto() == 300ms);
  e.sample(200ms);
  CHECK(e.rttvar() == std::chrono::microseconds(62500));  // 3/4*50 + 1/4*100
  CHECK(e.srtt() == std::chrono::microseconds(112500));   // 7/8*100 + 1/8*200
  CHECK(e.rto() == std::chrono::microseconds(362500));
  netpen::tcp::rtt_estimator clamped(1s, 200ms, 2s);
  clamped.sample(1ms);
  CHECK(clamped.rto() == 200ms);
  clamped.sample(10s);
  CHECK(clamped.rto() == 2s);
}

TEST_CASE("every state has a name", "[tcp]") {
  using netpen::tcp::state;
  CHECK(std::string(to_string(state::syn_received_pending)) == "syn_received_pending");
  CHECK(std::string(to_string(state::fin_wait_2)) == "fin_wait_2");
  CHECK(std::string(to_string(state::time_wait)) == "time_wait");
}
