// The stats line of NETPEN_STATS: its interval and its text.
#include <catch2/catch.hpp>

#include "net/relay/relay_sizes.hpp"

using netpen::relay::relay_sizes;
using netpen::relay::stats_interval;

TEST_CASE("relay_sizes: NETPEN_STATS takes whole seconds from 1 to 3600", "[relay_sizes]") {
  CHECK(stats_interval("60") == std::chrono::seconds(60));
  CHECK(stats_interval("1") == std::chrono::seconds(1));
  CHECK(stats_interval("3600") == std::chrono::seconds(3600));
  CHECK_FALSE(stats_interval(nullptr));
  CHECK_FALSE(stats_interval(""));
  CHECK_FALSE(stats_interval("0"));
  CHECK_FALSE(stats_interval("3601"));
  CHECK_FALSE(stats_interval("-5"));
  CHECK_FALSE(stats_interval("5s"));
  CHECK_FALSE(stats_interval(" 5"));
  CHECK_FALSE(stats_interval("99999999999999999999"));
}

TEST_CASE("relay_sizes: the line names the engine's tables, or the gate's under --root", "[relay_sizes]") {
  relay_sizes s;
  s.live_flows = 3;
  s.tcp = 2;
  s.udp = 1;
  s.owners = 3;
  s.names = 12;
  CHECK(to_text(s) == "flows 3 (tcp 2 udp 1 icmp 0) denied-said 0 inbound-udp 0 owners 3 names 12 dns-in-flight 0");
  s.rootful = true;
  s.gate_decided = 4;
  CHECK(to_text(s) == "gate pending 0 decided 4 claiming 0 owners 3 names 12 dns-in-flight 0");
}
