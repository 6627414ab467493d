// The rootful run's network plan from hand-made host facts
// (backends/rootful/network_plan): addresses and their slot, IPv6 absent, a
// taken range, proxy mode, --iface with its routes and its refusals.
#include <catch2/catch.hpp>

#include <sys/socket.h>

#include <sstream>
#include <string>
#include <vector>

#include "backends/rootful/network_plan.hpp"

using namespace netpen::backends::rootful;

namespace {

constexpr std::uint32_t pool = (10u << 24) | (249u << 16);  // 10.249.0.0

// Seed 5: run id "000000", first /30 tried: slot 5 (10.249.0.20/30).
host_facts facts_at_slot5() {
  host_facts f;
  f.seed = 5;
  f.ipv4_in_use = {{(192u << 24) | (168u << 16) | 1u, 24}, {pool + 0x100u, 24}};  // not overlapping slot 5
  return f;
}

const std::vector<std::uint8_t> gw_a{192, 0, 2, 1};
const std::vector<std::uint8_t> gw_b{192, 0, 2, 254};

// eth1 (index 3) is up; the main table has a default route through eth0
// (index 2) first, then two through eth1, and an IPv6 device route on eth1.
host_facts with_eth1(host_facts f) {
  f.iface.index = 3;
  f.iface.up = true;
  f.iface.main_default_routes = {
      {.family = AF_INET, .ifindex = 2, .gateway = gw_a, .metric = 0},
      {.family = AF_INET, .ifindex = 3, .gateway = gw_b, .metric = 100},
      {.family = AF_INET, .ifindex = 3, .gateway = gw_a, .metric = 200},
      {.family = AF_INET6, .ifindex = 3, .gateway = {}, .metric = 1024},
  };
  return f;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("network plan: the seed gives the id, the slot and both tables", "[rootful-plan]") {
  const auto p = plan_network(facts_at_slot5(), {});
  REQUIRE(p);
  CHECK(p->addresses.id == "000000");
  CHECK(p->addresses.veth == "np000000");
  CHECK(p->addresses.gateway4 == "10.249.0.21");
  CHECK(p->addresses.child6 == "fd6e:7065:6e01:5::2");
  CHECK(p->ipv6);
  const auto& h = p->host_table;
  CHECK(h.table == "netpen_000000");
  CHECK(h.veth == "np000000");
  CHECK(h.child4 == "10.249.0.22");
  CHECK(h.gateway6 == "fd6e:7065:6e01:5::1");
  CHECK_FALSE(h.tproxy_port);
  CHECK_FALSE(h.iface);
  CHECK_FALSE(h.log_group);
  CHECK(p->proxy_routing.table == 0);
  CHECK(p->iface_routing.table == 0);
  CHECK(p->iface_routes.empty());
  CHECK(p->host_script == host_table_script(h).value());
  CHECK(p->child_table.deny_mark != 0);
  // The tree's table without nft's queue rule (append_queue_rule adds it).
  const auto full = child_table_script(p->child_table).value();
  CHECK(contains(full, " queue num "));
  CHECK_FALSE(contains(p->child_script, " queue num "));
  CHECK(contains(p->child_script, "ct state invalid counter drop"));
}

TEST_CASE("network plan: without IPv6 nothing is planned for it", "[rootful-plan]") {
  network_options o;
  o.ipv6_route = false;
  const auto p = plan_network(facts_at_slot5(), o);
  REQUIRE(p);
  CHECK_FALSE(p->ipv6);
  CHECK_FALSE(p->host_table.child6);
  CHECK_FALSE(p->host_table.gateway6);
  // No ip6 rule but the refusals of the veth's link-local addresses and
  // the other runs' gateways.
  std::istringstream lines(p->host_script);
  for (std::string line; std::getline(lines, line);)
    if (contains(line, "ip6 ")) CHECK(contains(line, " reject with "));
}

TEST_CASE("network plan: a taken /30 moves the run to the next one", "[rootful-plan]") {
  auto f = facts_at_slot5();
  f.ipv4_in_use.push_back({pool + 20u, 30});  // slot 5
  f.ipv4_in_use.push_back({pool + 25u, 32});  // inside slot 6
  network_options o;
  o.proxy_mode = true;
  const auto p = plan_network(f, o);
  REQUIRE(p);
  CHECK(p->addresses.gateway4 == "10.249.0.29");
  CHECK(p->addresses.child6 == "fd6e:7065:6e01:7::2");
  CHECK(p->proxy_routing.table == 0x4e540007);  // the marks follow the slot

  f.ipv4_in_use.push_back({10u << 24, 8});
  const auto none = plan_network(f, o);
  REQUIRE_FALSE(none);
  CHECK(none.error().code == "no-free-subnet");
}

TEST_CASE("network plan: proxy mode has a marked table of its own", "[rootful-plan]") {
  network_options o;
  o.proxy_mode = true;
  o.log_group = 7;
  const auto p = plan_network(facts_at_slot5(), o);
  REQUIRE(p);
  CHECK(p->host_table.tproxy_port == 1080);
  CHECK(p->host_table.tproxy_mark == 0x4e540005);
  CHECK(p->proxy_routing.table == 0x4e540005);
  CHECK(p->proxy_routing.priority == 100);
  CHECK(p->host_table.log_group == 7);
  CHECK(contains(p->host_script, "tproxy ip to 10.249.0.21:1080 meta mark set 0x4e540005"));
  CHECK(contains(p->host_script, "log group 7"));
  CHECK(p->iface_routing.table == 0);
}

TEST_CASE("network plan: claim mode TPROXYs the tree's TCP to the gate as proxy mode does", "[rootful-plan][claim]") {
  network_options o;
  o.claim_mode = true;
  const auto p = plan_network(facts_at_slot5(), o);
  REQUIRE(p);
  CHECK(p->host_table.tproxy_port == 1080);
  CHECK(p->proxy_routing.table == 0x4e540005);  // the same routing table and rule, recorded the same way
  CHECK(p->proxy_routing.priority == 100);
  // Everything TCP from the veth but DNS and the gateway itself, per family.
  CHECK(contains(p->host_script, "iifname \"np000000\" meta l4proto tcp th dport != 53 ip daddr != 10.249.0.21 "
                                 "tproxy ip to 10.249.0.21:1080 meta mark set 0x4e540005 accept"));
  CHECK(contains(p->host_script, "ip6 daddr != fd6e:7065:6e01:5::1 tproxy ip6 to [fd6e:7065:6e01:5::1]:1080"));
  CHECK(contains(p->host_script, "meta mark 0x4e540005 accept"));  // the input chain takes them

  network_options both = o;  // with --proxy too: one rule, not two
  both.proxy_mode = true;
  const auto pb = plan_network(facts_at_slot5(), both);
  REQUIRE(pb);
  CHECK(pb->host_script == p->host_script);

  const auto plain = plan_network(facts_at_slot5(), {});  // neither: the kernel path alone
  REQUIRE(plain);
  CHECK_FALSE(contains(plain->host_script, "tproxy"));
  CHECK(plain->proxy_routing.table == 0);
}

TEST_CASE("network plan: --iface routes through the interface's best default route", "[rootful-plan]") {
  network_options o;
  o.iface = "eth1";
  const auto p = plan_network(with_eth1(facts_at_slot5()), o);
  REQUIRE(p);
  CHECK(p->host_table.iface == "eth1");
  CHECK(p->host_table.iface_mark == 0x4e490005);
  CHECK(p->iface_routing.table == 0x4e490005);
  CHECK(p->iface_routing.priority == 101);
  CHECK(p->iface_index == 3);
  REQUIRE(p->iface_routes.size() == 2);
  CHECK(p->iface_routes[0].family == AF_INET);
  CHECK(p->iface_routes[0].gateway == gw_b);  // eth1's, the lower metric
  CHECK(p->iface_routes[1].family == AF_INET6);
  CHECK(p->iface_routes[1].gateway.empty());  // a device route
  CHECK(contains(p->host_script, "oifname != \"eth1\" meta l4proto tcp counter reject with tcp reset"));
  CHECK(contains(p->host_script, "oifname != \"eth1\" counter reject with icmpx admin-prohibited"));

  SECTION("without IPv6, one route; with proxy mode too, two marks") {
    o.ipv6_route = false;
    o.proxy_mode = true;
    const auto both = plan_network(with_eth1(facts_at_slot5()), o);
    REQUIRE(both);
    REQUIRE(both->iface_routes.size() == 1);
    CHECK(both->iface_routes[0].family == AF_INET);
    CHECK(both->proxy_routing.table == 0x4e540005);
    CHECK(both->iface_routing.table == 0x4e490005);
  }
  SECTION("no default route through it: a device route") {
    auto f = with_eth1(facts_at_slot5());
    f.iface.main_default_routes.resize(1);  // eth0's only
    const auto dev = plan_network(f, o);
    REQUIRE(dev);
    REQUIRE(dev->iface_routes.size() == 2);
    CHECK(dev->iface_routes[0].gateway.empty());
  }
}

TEST_CASE("network plan: a bad --iface is the user's error", "[rootful-plan]") {
  const auto refusal = [](const std::string& name, host_facts f) {
    network_options o;
    o.iface = name;
    const auto p = plan_network(f, o);
    REQUIRE_FALSE(p);
    CHECK(p.error().code == "usage");
    return p.error().message;
  };
  CHECK(refusal("bad/name", with_eth1(facts_at_slot5())) == "--iface 'bad/name' is not an interface name");
  CHECK(refusal("eth9", facts_at_slot5()) == "--iface eth9: no such interface on this host");
  CHECK(refusal("lo", with_eth1(facts_at_slot5())) ==
        "--iface lo: the loopback interface cannot carry the tree's traffic");
  CHECK(refusal("np12abcd", with_eth1(facts_at_slot5())) == "--iface np12abcd: that is a netpen run's own link");
  auto down = with_eth1(facts_at_slot5());
  down.iface.up = false;
  CHECK(refusal("eth1", down) == "--iface eth1 is down");
}
