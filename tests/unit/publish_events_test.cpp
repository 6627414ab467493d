// [publish] the pure pieces of published ports: an inbound flow's event
// (JSON with its direction, read back) and the order of the
// routes into the sandbox.
#include <catch2/catch.hpp>

#include "events_test_util.hpp"
#include "net/events/json_event.hpp"
#include "net/relay/inbound.hpp"

using namespace netpen::events;
using namespace std::chrono_literals;
using netpen::events_test::at;
using netpen::relay::inbound_route;

TEST_CASE("an inbound flow_open line, exactly, and back", "[publish]") {
  event e;
  e.what = kind::flow_open;
  e.time = at(0ms);
  e.protocol = "tcp";
  e.source = "127.0.0.1:40000";
  e.destination = "10.248.0.2:8000";
  e.via = "direct";
  e.direction = "inbound";
  const auto line = to_json_line(e);
  CHECK(line ==
        R"({"schema_version":2,"time":"2026-11-22T10:35:02.123456Z","event":"flow_open","protocol":"tcp",)"
        R"("src":"127.0.0.1:40000","dst":"10.248.0.2:8000","via":"direct","direction":"inbound"})");
  auto back = from_json_line(line);
  REQUIRE(back);
  CHECK(back->direction == "inbound");
  CHECK(back->source == "127.0.0.1:40000");
  // Outbound flows carry no direction field.
  e.direction.clear();
  CHECK(to_json_line(e).find("direction") == std::string::npos);
}

TEST_CASE("routes into the sandbox: the child's address first, the host's family first", "[publish]") {
  using enum inbound_route;
  using routes = std::vector<inbound_route>;
  CHECK(netpen::relay::inbound_route_order(false, true, true) == routes{sandbox_v4, sandbox_v6, loopback_v4, loopback_v6});
  CHECK(netpen::relay::inbound_route_order(true, true, true) == routes{sandbox_v6, sandbox_v4, loopback_v6, loopback_v4});
  CHECK(netpen::relay::inbound_route_order(true, false, false) == routes{sandbox_v4});
  CHECK(netpen::relay::inbound_route_order(false, false, true) == routes{sandbox_v4, loopback_v4, loopback_v6});
}
