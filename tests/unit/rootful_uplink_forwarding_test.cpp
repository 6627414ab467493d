// A rootful run's forwarding sysctls and drop rules from hand-made uplink
// facts (backends/rootful/uplink_forwarding): several uplinks, found on or
// off, held by a run or not, per-interface or global IPv6, --iface.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "backends/rootful/uplink_forwarding.hpp"

using namespace netpen::backends::rootful;

namespace {

network_plan plan_of(network_options o = {}) {
  host_facts f;
  f.seed = 5;  // run id 000000: veth np000000, table netpen_000000
  f.iface.index = 4;
  f.iface.up = true;
  auto p = plan_network(f, o);
  REQUIRE(p);
  return *p;
}

std::string drop_rule(const std::string& uplink, const std::string& nfproto) {
  return "add rule inet netpen_000000 forward iifname \"" + uplink + "\" oifname != \"np*\" meta nfproto " + nfproto +
         " counter drop\n";
}

std::vector<std::string> paths_of(const forwarding_plan& f) {
  std::vector<std::string> out;
  for (const auto& s : f.sysctls) out.push_back(s.path);
  return out;
}

}  // namespace

TEST_CASE("uplink forwarding: off is turned on and guarded, on is the host's own", "[rootful-plan]") {
  const auto plan = plan_of();
  const uplink_facts up{.v4 = {"eth0", "wlan0", "usb0"}, .v6 = {"eth0"}, .ipv6_per_interface = true};
  CHECK(uplink_sysctl_paths(up, plan) ==
        std::vector<std::string>{"net/ipv4/conf/eth0/forwarding", "net/ipv4/conf/wlan0/forwarding",
                                 "net/ipv4/conf/usb0/forwarding", "net/ipv6/conf/eth0/force_forwarding"});
  const sysctl_readings readings{
      {"net/ipv4/conf/eth0/forwarding", {"0", false}},
      {"net/ipv4/conf/wlan0/forwarding", {"1", false}},        // the host's own: left alone
      {"net/ipv4/conf/usb0/forwarding", {"1", true}},          // a run's change: guarded
      {"net/ipv6/conf/eth0/force_forwarding", {"0", false}},
  };
  const auto f = plan_forwarding(up, readings, plan);
  REQUIRE(f);
  CHECK(paths_of(*f) == std::vector<std::string>{"net/ipv4/conf/np000000/forwarding", "net/ipv4/conf/eth0/forwarding",
                                                 "net/ipv6/conf/np000000/force_forwarding",
                                                 "net/ipv6/conf/eth0/force_forwarding"});
  for (const auto& s : f->sysctls) {
    CHECK(s.value == "1");
    CHECK(s.undo == (s.path.find("/np000000/") == std::string::npos));  // the veth's die with it
  }
  CHECK(f->host_rules == drop_rule("eth0", "ipv4") + drop_rule("usb0", "ipv4") + drop_rule("eth0", "ipv6"));
}

TEST_CASE("uplink forwarding: without per-interface IPv6, the global switch", "[rootful-plan]") {
  const auto plan = plan_of();
  const uplink_facts up{.v4 = {"eth0"}, .v6 = {"eth0"}, .ipv6_per_interface = false};
  CHECK(uplink_sysctl_paths(up, plan) == std::vector<std::string>{"net/ipv4/conf/eth0/forwarding"});
  const auto f = plan_forwarding(up, {{"net/ipv4/conf/eth0/forwarding", {"1", false}}}, plan);
  REQUIRE(f);
  REQUIRE(f->sysctls.size() == 2);
  CHECK(f->sysctls[1].path == "net/ipv6/conf/all/forwarding");
  CHECK(f->sysctls[1].undo);
  CHECK(f->host_rules.empty());
}

TEST_CASE("uplink forwarding: an IPv4-only run touches no IPv6 setting", "[rootful-plan]") {
  network_options o;
  o.ipv6_route = false;
  const auto plan = plan_of(o);
  const uplink_facts up{.v4 = {}, .v6 = {"eth0"}, .ipv6_per_interface = true};
  CHECK(uplink_sysctl_paths(up, plan).empty());
  const auto f = plan_forwarding(up, {}, plan);
  REQUIRE(f);
  CHECK(paths_of(*f) == std::vector<std::string>{"net/ipv4/conf/np000000/forwarding"});
  CHECK(f->host_rules.empty());
}

TEST_CASE("uplink forwarding: --iface is an uplink of both families, once", "[rootful-plan]") {
  network_options o;
  o.iface = "eth1";
  const auto plan = plan_of(o);
  const uplink_facts up{.v4 = {"eth0", "eth1"}, .v6 = {"eth0"}, .ipv6_per_interface = true};
  const auto paths = uplink_sysctl_paths(up, plan);
  CHECK(paths == std::vector<std::string>{"net/ipv4/conf/eth0/forwarding", "net/ipv4/conf/eth1/forwarding",
                                          "net/ipv6/conf/eth0/force_forwarding",
                                          "net/ipv6/conf/eth1/force_forwarding"});
  sysctl_readings readings;
  for (const auto& p : paths) readings[p] = {"0", false};
  const auto f = plan_forwarding(up, readings, plan);
  REQUIRE(f);
  CHECK(f->sysctls.size() == 6);
  CHECK(f->host_rules == drop_rule("eth0", "ipv4") + drop_rule("eth1", "ipv4") + drop_rule("eth0", "ipv6") +
                             drop_rule("eth1", "ipv6"));
}

TEST_CASE("uplink forwarding: an uplink sysctl not read is an error", "[rootful-plan]") {
  const auto plan = plan_of();
  const uplink_facts up{.v4 = {"eth0"}, .v6 = {}, .ipv6_per_interface = false};
  const auto f = plan_forwarding(up, {}, plan);
  REQUIRE_FALSE(f);
  CHECK(f.error().code == "sysctl");
  CHECK(f.error().message == "cannot read /proc/sys/net/ipv4/conf/eth0/forwarding");
}
