// The rootful run's names and free subnets (backends/rootful/run_addresses).
#include <catch2/catch.hpp>

#include <vector>

#include "backends/rootful/run_addresses.hpp"

using namespace netpen::backends::rootful;

TEST_CASE("a run's names come from its id", "[rootful-addresses]") {
  const auto id = make_run_id(0x123abcdeu);
  CHECK(id == "3abcde");
  auto a = plan_addresses(id, 0, {});
  REQUIRE(a);
  CHECK(a->veth == "np3abcde");
  CHECK(a->peer == "np3abcdec");
  CHECK(a->peer.size() <= 15);
  CHECK(a->gateway4 == "10.249.0.1");
  CHECK(a->child4 == "10.249.0.2");
  CHECK(a->gateway6 == "fd6e:7065:6e01:0::1");
  CHECK(a->child6 == "fd6e:7065:6e01:0::2");
}

TEST_CASE("the seed picks the slot", "[rootful-addresses]") {
  auto a = plan_addresses("000001", 5, {});
  REQUIRE(a);
  CHECK(a->gateway4 == "10.249.0.21");
  CHECK(a->child6 == "fd6e:7065:6e01:5::2");
}

TEST_CASE("a slot overlapping a host network is skipped", "[rootful-addresses]") {
  const std::vector<ipv4_net> used{{(10u << 24) | (249u << 16) | 20u, 30}, {(10u << 24) | (249u << 16) | 25u, 32}};
  auto a = plan_addresses("000001", 5, used);
  REQUIRE(a);
  CHECK(a->gateway4 == "10.249.0.29");  // slots 5 (.20/30) and 6 (.25 inside .24/30) are taken
}

TEST_CASE("a host route covering the whole pool leaves nothing", "[rootful-addresses]") {
  const std::vector<ipv4_net> used{{10u << 24, 8}};
  auto a = plan_addresses("000001", 5, used);
  REQUIRE_FALSE(a);
  CHECK(a.error().code == "no-free-subnet");
}
