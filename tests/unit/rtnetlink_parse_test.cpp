// Unit tests for reading rtnetlink dump messages (as the kernel sends them,
// built here with libmnl): links, addresses, routes (single and multipath),
// rules; and picking a table's default routes and the tables rules use.
#include <catch2/catch.hpp>

#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <array>
#include <cstring>

#include "backends/rootful/rtnetlink_queries.hpp"
#include "tests/unit/rtnetlink_test_util.hpp"

using namespace netpen::backends::rootful;
using netpen::backends::put_family_header;
using rtnetlink_test::buffer;

namespace {

using bytes = std::vector<std::uint8_t>;

nlmsghdr* answer(char* buf, std::uint16_t type) {
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_MULTI;
  return nlh;
}

nlmsghdr* route_message(char* buf, int family, std::uint8_t table_byte, std::uint8_t type) {
  nlmsghdr* nlh = answer(buf, RTM_NEWROUTE);
  auto* rtm = put_family_header<rtmsg>(nlh);
  rtm->rtm_family = static_cast<std::uint8_t>(family);
  rtm->rtm_table = table_byte;
  rtm->rtm_type = type;
  return nlh;
}

route_entry route(int family, std::uint32_t table, int type, int dst_len, std::uint32_t metric,
                  std::vector<next_hop> hops) {
  return route_entry{.family = family,
                     .table = table,
                     .type = type,
                     .dst_len = dst_len,
                     .dst = {},
                     .metric = metric,
                     .cloned = false,
                     .hops = std::move(hops)};
}

}  // namespace

TEST_CASE("a link message gives index and name", "[rtnetlink]") {
  auto buf = buffer();
  nlmsghdr* nlh = answer(buf.data(), RTM_NEWLINK);
  put_family_header<ifinfomsg>(nlh)->ifi_index = 5;
  mnl_attr_put_u32(nlh, IFLA_MTU, 1500);
  mnl_attr_put_strz(nlh, IFLA_IFNAME, "eth0");
  auto e = parse_link(nlh);
  REQUIRE(e);
  CHECK(e->ifindex == 5);
  CHECK(e->name == "eth0");

  nlh->nlmsg_type = RTM_NEWADDR;
  CHECK_FALSE(parse_link(nlh));
}

TEST_CASE("an address message gives prefix, local and peer addresses", "[rtnetlink]") {
  auto buf = buffer();
  nlmsghdr* nlh = answer(buf.data(), RTM_NEWADDR);
  auto* ifa = put_family_header<ifaddrmsg>(nlh);
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = 30;
  ifa->ifa_index = 4;
  ifa->ifa_flags = IFA_F_PERMANENT;
  const std::array<std::uint8_t, 4> local{10, 0, 0, 1}, peer{10, 0, 0, 2};
  mnl_attr_put(nlh, IFA_ADDRESS, peer.size(), peer.data());
  mnl_attr_put(nlh, IFA_LOCAL, local.size(), local.data());
  auto e = parse_address(nlh);
  REQUIRE(e);
  CHECK(e->family == AF_INET);
  CHECK(e->ifindex == 4);
  CHECK(e->prefix == 30);
  CHECK(e->local == bytes{10, 0, 0, 1});
  CHECK(e->address == bytes{10, 0, 0, 2});
  CHECK(e->flags == IFA_F_PERMANENT);

  // IPv6 sends only IFA_ADDRESS; the 32-bit IFA_FLAGS wins over the byte.
  nlmsghdr* v6 = answer(buf.data(), RTM_NEWADDR);
  auto* ifa6 = put_family_header<ifaddrmsg>(v6);
  ifa6->ifa_family = AF_INET6;
  ifa6->ifa_prefixlen = 64;
  const std::array<std::uint8_t, 16> a6{0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  mnl_attr_put(v6, IFA_ADDRESS, a6.size(), a6.data());
  mnl_attr_put_u32(v6, IFA_FLAGS, IFA_F_NODAD | IFA_F_NOPREFIXROUTE);
  auto e6 = parse_address(v6);
  REQUIRE(e6);
  CHECK(e6->local == bytes(a6.begin(), a6.end()));
  CHECK(e6->address == e6->local);
  CHECK(e6->flags == (IFA_F_NODAD | IFA_F_NOPREFIXROUTE));
}

TEST_CASE("a route message gives table, type, metric and its next hop", "[rtnetlink]") {
  auto buf = buffer();
  nlmsghdr* nlh = route_message(buf.data(), AF_INET, RT_TABLE_UNSPEC, RTN_UNICAST);
  mnl_attr_put_u32(nlh, RTA_TABLE, 1234);
  mnl_attr_put_u32(nlh, RTA_PRIORITY, 600);
  const std::array<std::uint8_t, 4> gw{192, 168, 1, 1};
  mnl_attr_put(nlh, RTA_GATEWAY, gw.size(), gw.data());
  mnl_attr_put_u32(nlh, RTA_OIF, 3);
  auto e = parse_route(nlh);
  REQUIRE(e);
  CHECK(e->family == AF_INET);
  CHECK(e->table == 1234);
  CHECK(e->type == RTN_UNICAST);
  CHECK(e->dst_len == 0);
  CHECK(e->dst.empty());
  CHECK(e->metric == 600);
  CHECK_FALSE(e->cloned);
  REQUIRE(e->hops.size() == 1);
  CHECK(e->hops[0].ifindex == 3);
  CHECK(e->hops[0].gateway == bytes{192, 168, 1, 1});

  // Without RTA_TABLE the header byte is the table.
  nlmsghdr* main = route_message(buf.data(), AF_INET6, RT_TABLE_MAIN, RTN_LOCAL);
  mnl_attr_put_u32(main, RTA_OIF, 1);
  auto m = parse_route(main);
  REQUIRE(m);
  CHECK(m->table == RT_TABLE_MAIN);
  CHECK(m->type == RTN_LOCAL);
  CHECK(m->hops[0].gateway.empty());
}

TEST_CASE("a multipath route gives every next hop", "[rtnetlink]") {
  auto buf = buffer();
  nlmsghdr* nlh = route_message(buf.data(), AF_INET6, RT_TABLE_MAIN, RTN_UNICAST);
  nlattr* mp = mnl_attr_nest_start(nlh, RTA_MULTIPATH);
  for (const int ifindex : {2, 7}) {
    auto* nh = static_cast<rtnexthop*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtnexthop)));
    const auto start = nlh->nlmsg_len - sizeof(rtnexthop);
    nh->rtnh_ifindex = ifindex;
    const std::array<std::uint8_t, 16> gw{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, static_cast<std::uint8_t>(ifindex)};
    mnl_attr_put(nlh, RTA_GATEWAY, gw.size(), gw.data());
    nh->rtnh_len = static_cast<unsigned short>(nlh->nlmsg_len - start);
  }
  mnl_attr_nest_end(nlh, mp);
  auto e = parse_route(nlh);
  REQUIRE(e);
  REQUIRE(e->hops.size() == 2);
  CHECK(e->hops[0].ifindex == 2);
  CHECK(e->hops[0].gateway.size() == 16);
  CHECK(e->hops[0].gateway[15] == 2);
  CHECK(e->hops[1].ifindex == 7);
  CHECK(e->hops[1].gateway[15] == 7);
}

TEST_CASE("a rule message gives table, priority, fwmark and mask", "[rtnetlink]") {
  auto buf = buffer();
  nlmsghdr* nlh = answer(buf.data(), RTM_NEWRULE);
  auto* frh = put_family_header<fib_rule_hdr>(nlh);
  frh->family = AF_INET;
  frh->table = RT_TABLE_UNSPEC;
  frh->action = FR_ACT_TO_TBL;
  mnl_attr_put_u32(nlh, FRA_TABLE, 1234);
  mnl_attr_put_u32(nlh, FRA_PRIORITY, 100);
  mnl_attr_put_u32(nlh, FRA_FWMARK, 0x100);
  mnl_attr_put_u32(nlh, FRA_FWMASK, 0xff00);
  auto e = parse_rule(nlh);
  REQUIRE(e);
  CHECK(e->family == AF_INET);
  CHECK(e->table == 1234);
  CHECK(e->priority == 100);
  CHECK(e->fwmark == 0x100);
  CHECK(e->fwmask == 0xff00);
  CHECK(e->action == FR_ACT_TO_TBL);

  // Rule 0 (`from all lookup local`): no priority attribute, table in the byte.
  nlmsghdr* local = answer(buf.data(), RTM_NEWRULE);
  auto* lfrh = put_family_header<fib_rule_hdr>(local);
  lfrh->family = AF_INET;
  lfrh->table = RT_TABLE_LOCAL;
  lfrh->action = FR_ACT_TO_TBL;
  auto l = parse_rule(local);
  REQUIRE(l);
  CHECK(l->table == RT_TABLE_LOCAL);
  CHECK(l->priority == 0);
  CHECK(l->fwmark == 0);
  CHECK(l->fwmask == 0);
}

TEST_CASE("a truncated message is not read", "[rtnetlink]") {
  auto buf = buffer();
  nlmsghdr* nlh = answer(buf.data(), RTM_NEWROUTE);
  CHECK_FALSE(parse_route(nlh));
  CHECK_FALSE(parse_rule(nlh));
  CHECK_FALSE(parse_address(nlh));
}

TEST_CASE("a table's default routes: unicast, dst_len 0, not cached, by family and metric", "[rtnetlink]") {
  const bytes gw_a{10, 0, 0, 1}, gw_b{10, 0, 0, 2};
  std::vector<route_entry> routes{
      route(AF_INET, 254, RTN_UNICAST, 0, 600, {{3, gw_a}}),
      route(AF_INET, 254, RTN_UNICAST, 0, 100, {{4, gw_b}}),
      route(AF_INET, 254, RTN_UNICAST, 24, 0, {{3, {}}}),      // not a default route
      route(AF_INET, 100, RTN_UNICAST, 0, 0, {{5, gw_a}}),     // another table
      route(AF_INET, 254, RTN_UNREACHABLE, 0, 0, {{0, {}}}),   // not unicast
      route(AF_INET6, 254, RTN_UNICAST, 0, 1024, {{3, bytes(16, 1)}, {4, bytes(16, 2)}}),
  };
  routes.push_back(route(AF_INET, 254, RTN_UNICAST, 0, 0, {{9, gw_a}}));
  routes.back().cloned = true;

  auto d = default_routes_in(routes, 254);
  REQUIRE(d.size() == 4);
  CHECK(d[0].family == AF_INET);
  CHECK(d[0].metric == 100);
  CHECK(d[0].ifindex == 4);
  CHECK(d[0].gateway == gw_b);
  CHECK(d[1].metric == 600);
  CHECK(d[1].ifindex == 3);
  CHECK(d[2].family == AF_INET6);
  CHECK(d[2].ifindex == 3);
  CHECK(d[3].ifindex == 4);
  CHECK(default_routes_in(routes, 7).empty());
}

TEST_CASE("the tables rules look up, each once", "[rtnetlink]") {
  const std::vector<rule_entry> rules{
      {.family = AF_INET, .table = 255, .priority = 0, .fwmark = 0, .fwmask = 0, .action = FR_ACT_TO_TBL},
      {.family = AF_INET, .table = 1234, .priority = 90, .fwmark = 1, .fwmask = 1, .action = FR_ACT_TO_TBL},
      {.family = AF_INET6, .table = 1234, .priority = 90, .fwmark = 1, .fwmask = 1, .action = FR_ACT_TO_TBL},
      {.family = AF_INET, .table = 254, .priority = 32766, .fwmark = 0, .fwmask = 0, .action = FR_ACT_TO_TBL},
      {.family = AF_INET, .table = 0, .priority = 5, .fwmark = 0, .fwmask = 0, .action = FR_ACT_BLACKHOLE},
  };
  CHECK(tables_used_by(rules) == std::vector<std::uint32_t>{254, 255, 1234});
}
