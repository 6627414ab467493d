// Unit tests for the real host undo (make_host_undo): the rtnetlink request
// builders, and, as root, every kind of change made and undone for real in a
// forked child's private network namespace (private_netns; never the host's
// own), twice, since undo must be idempotent.
#include <catch2/catch.hpp>

#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "backends/common/rtnetlink.hpp"
#include "backends/common/sysctl.hpp"
#include "backends/rootful/host_undo.hpp"
#include "backends/rootful/nftables.hpp"
#include "backends/rootful/rtnetlink_queries.hpp"
#include "backends/rootful/rtnetlink_undo.hpp"
#include "tests/unit/private_netns.hpp"

using namespace netpen::backends::rootful;
using netpen::backends::read_sysctl;
using netpen::backends::write_sysctl;

namespace {

std::vector<char> buffer() { return std::vector<char>(static_cast<std::size_t>(MNL_SOCKET_BUFFER_SIZE)); }

std::uint32_t u32_attr(const nlmsghdr* nlh, std::size_t header, std::uint16_t type) {
  std::pair<std::uint16_t, std::uint32_t> want{type, 0xdeadbeef};
  mnl_attr_parse(
      nlh, static_cast<unsigned>(header),
      [](const nlattr* a, void* data) {
        auto* w = static_cast<std::pair<std::uint16_t, std::uint32_t>*>(data);
        if (mnl_attr_get_type(a) == w->first) w->second = mnl_attr_get_u32(a);
        return MNL_CB_OK;
      },
      &want);
  return want.second;
}

// Runs a shell command in the child; its stdout, or nullopt if it failed.
std::optional<std::string> sh(const std::string& cmd) {
  std::FILE* p = ::popen((cmd + " 2>/dev/null").c_str(), "r");
  if (p == nullptr) return std::nullopt;
  std::string out;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  if (::pclose(p) != 0) return std::nullopt;
  return out;
}

// Undoes `c` twice (the second finds nothing to do); an error message or "".
std::string undo_twice(host_undo& undo, const host_change& c) {
  for (int i = 0; i < 2; ++i) {
    if (auto r = undo.undo(c); !r) return describe(c) + (i ? " (again): " : ": ") + r.error().message;
  }
  return "";
}

std::string every_change_undone() {
  if (!sh("ip -V")) return "skip: no ip(8) to set up the test";
  auto undo = make_host_undo();
  if (!sh("ip link add nptest1 type veth peer name nptest1c"))
    return "skip: cannot create a veth pair (no veth support)";
  if (!sh("ip link set nptest1 up && ip link set nptest1c up && ip addr add 10.249.0.1/30 dev nptest1"))
    return "setting up the veth failed";

  // sysctl: the namespace's own per-interface forwarding switch.
  const std::string fwd = "net/ipv4/conf/nptest1/forwarding";
  if (!write_sysctl(fwd, "1") || read_sysctl(fwd) != "1") return "could not set " + fwd;
  if (auto e = undo_twice(*undo, sysctl{fwd, "0"}); !e.empty()) return e;
  if (read_sysctl(fwd) != "0") return "forwarding is " + read_sysctl(fwd).value_or("unreadable") + " after the undo";

  // ip rules, both families.
  if (!sh("ip -4 rule add fwmark 0x1/0x1 lookup 4242 priority 1000") ||
      !sh("ip -6 rule add fwmark 0x2/0x3 lookup 4243 priority 1001"))
    return "adding the rules failed";
  if (auto e = undo_twice(*undo, ip_rule{ip_family::ipv4, 1, 1, 4242, 1000}); !e.empty()) return e;
  if (auto e = undo_twice(*undo, ip_rule{ip_family::ipv6, 2, 3, 4243, 1001}); !e.empty()) return e;
  if (auto out = sh("ip -4 rule show priority 1000"); !out || !out->empty()) return "the IPv4 rule is still there";
  if (auto out = sh("ip -6 rule show priority 1001"); !out || !out->empty()) return "the IPv6 rule is still there";
  if (auto out = sh("ip -4 rule show"); !out || out->find("lookup main") == std::string::npos)
    return "the main rule went too";

  // A private routing table: flushed, the main table untouched.
  // Routes that differ only in tos or metric are deleted one by one.
  if (!sh("ip route add default via 10.249.0.2 table 4242 && ip route add 192.0.2.0/24 dev nptest1 table 4242 && "
          "ip route add 192.0.2.0/24 dev nptest1 metric 5 table 4242 && "
          "ip route add 192.0.2.0/24 tos 0x10 dev nptest1 table 4242 && "
          "ip route add unreachable 198.51.100.0/24 table 4242"))
    return "adding routes to table 4242 failed";
  if (auto e = undo_twice(*undo, route_table{ip_family::ipv4, 4242}); !e.empty()) return e;
  if (auto out = sh("ip -4 route show table 4242"); !out || !out->empty()) return "table 4242 still has: " + *out;
  if (auto out = sh("ip -4 route show table main"); !out || out->find("10.249.0.0/30") == std::string::npos)
    return "the main table lost its connected route";
  if (sh("ip -6 route add 2001:db8::/64 dev nptest1 table 4243")) {
    if (auto e = undo_twice(*undo, route_table{ip_family::ipv6, 4243}); !e.empty()) return e;
    if (auto out = sh("ip -6 route show table 4243"); !out || !out->empty()) return "table 4243 still has: " + *out;
  }

  // An nftables table.
  if (auto nft = nft_session::open(); nft && nft->run("add table inet netpen_test")) {
    if (auto e = undo_twice(*undo, nft_table{"inet", "netpen_test"}); !e.empty()) return e;
    auto exists = nft->table_exists("inet", "netpen_test");
    if (!exists || *exists) return "the nftables table is still there";
  }

  // The veth: deleting the host end removes the pair.
  if (auto e = undo_twice(*undo, veth{"nptest1"}); !e.empty()) return e;
  if (::if_nametoindex("nptest1") != 0 || ::if_nametoindex("nptest1c") != 0) return "the veth pair is still there";
  // The kernel's own tables are never touched, even when asked.
  if (undo->undo(route_table{ip_family::ipv4, 254})) return "flushing the main table was accepted";
  return "";
}

}  // namespace

TEST_CASE("rtnetlink undo requests name what they delete", "[rootful-undo]") {
  auto buf = buffer();
  const nlmsghdr* del = netpen::backends::build_link_delete(buf.data(), 3, "np3fa9c1");
  CHECK(del->nlmsg_type == RTM_DELLINK);
  CHECK((del->nlmsg_flags & NLM_F_ACK) != 0);
  const auto* ifm = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(del));
  CHECK(ifm->ifi_index == 0);
  const nlattr* name = nullptr;
  mnl_attr_parse(
      del, sizeof(ifinfomsg),
      [](const nlattr* a, void* data) {
        if (mnl_attr_get_type(a) == IFLA_IFNAME) *static_cast<const nlattr**>(data) = a;
        return MNL_CB_OK;
      },
      &name);
  REQUIRE(name != nullptr);
  CHECK(std::string(mnl_attr_get_str(name)) == "np3fa9c1");

  const nlmsghdr* rule = build_rule_delete(buf.data(), 4, ip_rule{ip_family::ipv6, 0x100, 0xf00, 1000, 2000});
  CHECK(rule->nlmsg_type == RTM_DELRULE);
  const auto* frh = static_cast<const fib_rule_hdr*>(mnl_nlmsg_get_payload(rule));
  CHECK(frh->family == AF_INET6);
  CHECK(frh->table == RT_TABLE_UNSPEC);  // > 255: only in FRA_TABLE
  CHECK(u32_attr(rule, sizeof(fib_rule_hdr), FRA_TABLE) == 1000);
  CHECK(u32_attr(rule, sizeof(fib_rule_hdr), FRA_FWMARK) == 0x100);
  CHECK(u32_attr(rule, sizeof(fib_rule_hdr), FRA_FWMASK) == 0xf00);
  CHECK(u32_attr(rule, sizeof(fib_rule_hdr), FRA_PRIORITY) == 2000);

  route_entry listed;
  listed.family = AF_INET;
  listed.table = 4242;
  listed.type = RTN_UNICAST;
  listed.dst_len = 24;
  listed.dst = {192, 0, 2, 0};
  listed.tos = 0x10;
  listed.metric = 7;
  const nlmsghdr* route = build_route_delete(buf.data(), 5, listed);
  CHECK(route->nlmsg_type == RTM_DELROUTE);
  CHECK((route->nlmsg_flags & NLM_F_ACK) != 0);
  const auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(route));
  CHECK(rtm->rtm_family == AF_INET);
  CHECK(rtm->rtm_dst_len == 24);
  CHECK(rtm->rtm_tos == 0x10);
  CHECK(rtm->rtm_type == RTN_UNICAST);
  CHECK(rtm->rtm_scope == RT_SCOPE_NOWHERE);  // any scope matches
  CHECK(u32_attr(route, sizeof(rtmsg), RTA_TABLE) == 4242);
  CHECK(u32_attr(route, sizeof(rtmsg), RTA_PRIORITY) == 7);
}

TEST_CASE("every host change is undone for real, idempotently, in a private namespace", "[rootful-undo][root]") {
  netns_test::check_in_private_netns(every_change_undone);
}
