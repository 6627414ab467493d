// Unit tests for UDP flow expiry and eviction (udp_idle_expiry.hpp).
#include <catch2/catch.hpp>

#include <chrono>
#include <vector>

#include "net/relay/udp_idle_expiry.hpp"

using namespace std::chrono_literals;
using netpen::relay::oldest_idle;
using netpen::relay::udp_idle_expiry;
using clk = udp_idle_expiry::clock;

TEST_CASE("udp flow without a reply expires after the short timeout", "[relay][udp]") {
  udp_idle_expiry p;
  const clk::time_point t0{};
  CHECK_FALSE(p.expired(t0 + 29s, t0, false));
  CHECK(p.expired(t0 + 30s, t0, false));
  CHECK(p.expiry(t0, false) == t0 + 30s);
}

TEST_CASE("udp flow that got a reply lives for the long timeout", "[relay][udp]") {
  udp_idle_expiry p;
  const clk::time_point t0{};
  CHECK_FALSE(p.expired(t0 + 30s, t0, true));
  CHECK_FALSE(p.expired(t0 + 179s, t0, true));
  CHECK(p.expired(t0 + 180s, t0, true));
}

TEST_CASE("udp flow activity pushes expiry forward", "[relay][udp]") {
  udp_idle_expiry p;
  const clk::time_point t0{};
  const auto last = t0 + 100s;  // a datagram at 100 s
  CHECK_FALSE(p.expired(t0 + 120s, last, false));
  CHECK(p.expired(t0 + 130s, last, false));
}

TEST_CASE("udp timeouts are configurable", "[relay][udp]") {
  udp_idle_expiry p;
  p.unreplied = 2s;
  p.replied = 5s;
  const clk::time_point t0{};
  CHECK(p.expired(t0 + 2s, t0, false));
  CHECK_FALSE(p.expired(t0 + 4s, t0, true));
  CHECK(p.expired(t0 + 5s, t0, true));
}

TEST_CASE("eviction picks the flow idle the longest", "[relay][udp]") {
  const clk::time_point t0{};
  std::vector<clk::time_point> last{t0 + 50s, t0 + 10s, t0 + 70s, t0 + 10s, t0 + 30s};
  auto victim = oldest_idle(last.size(), [&](std::size_t i) { return last[i]; });
  REQUIRE(victim);
  CHECK(*victim == 1);  // the first of the two oldest
  last[1] = t0 + 90s;
  victim = oldest_idle(last.size(), [&](std::size_t i) { return last[i]; });
  REQUIRE(victim);
  CHECK(*victim == 3);
}

TEST_CASE("eviction of an empty table picks nothing", "[relay][udp]") {
  CHECK_FALSE(oldest_idle(0, [](std::size_t) { return clk::time_point{}; }));
  CHECK(*oldest_idle(1, [](std::size_t) { return clk::time_point{}; }) == 0);
}
