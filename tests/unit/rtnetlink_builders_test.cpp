// Unit tests for the rootful backend's rtnetlink requests, each parsed back
// with libmnl field by field: veth pair, link delete/rename, table default
// and local routes, fwmark rules, dump requests.
#include <catch2/catch.hpp>

#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sys/socket.h>

#include <array>

#include "backends/rootful/rtnetlink_links.hpp"
#include "backends/rootful/rtnetlink_queries.hpp"
#include "backends/rootful/rtnetlink_routing.hpp"
#include "tests/unit/rtnetlink_test_util.hpp"

using namespace netpen::backends::rootful;
using netpen::backends::build_link_delete;
using namespace rtnetlink_test;

namespace {

const ifinfomsg* ifinfo_of(const nlmsghdr* nlh) { return static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh)); }
const rtmsg* rtmsg_of(const nlmsghdr* nlh) { return static_cast<const rtmsg*>(mnl_nlmsg_get_payload(nlh)); }

}  // namespace

TEST_CASE("veth create nests the peer with its own ifinfomsg, name, MTU and netns", "[rtnetlink]") {
  auto buf = buffer();
  const nlmsghdr* nlh = build_veth_create(buf.data(), 11, "np-host", "np-sbx", 7, 1400);
  CHECK(nlh->nlmsg_type == RTM_NEWLINK);
  CHECK(nlh->nlmsg_seq == 11);
  CHECK(nlh->nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL));
  CHECK(ifinfo_of(nlh)->ifi_index == 0);
  CHECK(ifinfo_of(nlh)->ifi_family == AF_UNSPEC);

  auto top = collect(nlh, sizeof(ifinfomsg));
  CHECK(as_string(top.at(IFLA_IFNAME)) == "np-host");
  CHECK(as_u32(top.at(IFLA_MTU)) == 1400);
  CHECK(top.count(IFLA_NET_NS_FD) == 0);

  auto linkinfo = collect_payload(top.at(IFLA_LINKINFO));
  CHECK(as_string(linkinfo.at(IFLA_INFO_KIND)) == "veth");
  auto data = collect_payload(linkinfo.at(IFLA_INFO_DATA));
  const auto& peer = data.at(VETH_INFO_PEER);
  const std::size_t head = sizeof(ifinfomsg);  // already 4-byte aligned
  REQUIRE(peer.size() > head);
  ifinfomsg peer_ifm{};
  std::memcpy(&peer_ifm, peer.data(), sizeof(peer_ifm));
  CHECK(peer_ifm.ifi_index == 0);
  auto peer_attrs = collect_payload(peer.data() + head, peer.size() - head);
  CHECK(as_string(peer_attrs.at(IFLA_IFNAME)) == "np-sbx");
  CHECK(as_u32(peer_attrs.at(IFLA_MTU)) == 1400);
  CHECK(as_u32(peer_attrs.at(IFLA_NET_NS_FD)) == 7);
}

TEST_CASE("veth create without netns or MTU leaves those attributes out", "[rtnetlink]") {
  auto buf = buffer();
  const nlmsghdr* nlh = build_veth_create(buf.data(), 1, "a", "b", -1);
  auto top = collect(nlh, sizeof(ifinfomsg));
  CHECK(top.count(IFLA_MTU) == 0);
  auto data = collect_payload(collect_payload(top.at(IFLA_LINKINFO)).at(IFLA_INFO_DATA));
  const auto& peer = data.at(VETH_INFO_PEER);
  const std::size_t head = sizeof(ifinfomsg);  // already 4-byte aligned
  auto peer_attrs = collect_payload(peer.data() + head, peer.size() - head);
  CHECK(as_string(peer_attrs.at(IFLA_IFNAME)) == "b");
  CHECK(peer_attrs.count(IFLA_NET_NS_FD) == 0);
  CHECK(peer_attrs.count(IFLA_MTU) == 0);
}

TEST_CASE("link delete names the link", "[rtnetlink]") {
  auto buf = buffer();
  const nlmsghdr* nlh = build_link_delete(buf.data(), 2, "np-host");
  CHECK(nlh->nlmsg_type == RTM_DELLINK);
  CHECK(nlh->nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK));
  CHECK(ifinfo_of(nlh)->ifi_index == 0);
  auto a = collect(nlh, sizeof(ifinfomsg));
  CHECK(as_string(a.at(IFLA_IFNAME)) == "np-host");
  CHECK(a.size() == 1);
}

TEST_CASE("link rename goes by index, optionally into another netns", "[rtnetlink]") {
  auto buf = buffer();
  const nlmsghdr* nlh = build_link_rename(buf.data(), 3, 42, "eth0");
  CHECK(nlh->nlmsg_type == RTM_NEWLINK);
  CHECK((nlh->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL)) == 0);
  CHECK(ifinfo_of(nlh)->ifi_index == 42);
  CHECK(ifinfo_of(nlh)->ifi_change == 0);
  auto a = collect(nlh, sizeof(ifinfomsg));
  CHECK(as_string(a.at(IFLA_IFNAME)) == "eth0");
  CHECK(a.count(IFLA_NET_NS_FD) == 0);

  const nlmsghdr* moved = build_link_rename(buf.data(), 4, 42, "eth0", 9);
  auto b = collect(moved, sizeof(ifinfomsg));
  CHECK(as_u32(b.at(IFLA_NET_NS_FD)) == 9);
}

TEST_CASE("interface names the kernel accepts", "[rtnetlink]") {
  CHECK(is_valid_ifname("np-0123456789ab"));  // 15 bytes
  CHECK_FALSE(is_valid_ifname("np-0123456789abc"));
  CHECK_FALSE(is_valid_ifname(""));
  CHECK_FALSE(is_valid_ifname("."));
  CHECK_FALSE(is_valid_ifname(".."));
  CHECK_FALSE(is_valid_ifname("a/b"));
  CHECK_FALSE(is_valid_ifname("a:b"));
  CHECK_FALSE(is_valid_ifname("a b"));
}

TEST_CASE("table default route via a gateway: add and delete", "[rtnetlink]") {
  auto buf = buffer();
  const std::array<std::uint8_t, 4> gw{192, 0, 2, 1};
  const nlmsghdr* nlh = build_table_default_route(buf.data(), 5, route_op::add, AF_INET, 1234, 3, gw);
  CHECK(nlh->nlmsg_type == RTM_NEWROUTE);
  CHECK(nlh->nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE));
  const rtmsg* rtm = rtmsg_of(nlh);
  CHECK(rtm->rtm_family == AF_INET);
  CHECK(rtm->rtm_dst_len == 0);
  CHECK(rtm->rtm_table == RT_TABLE_UNSPEC);  // 1234 does not fit the byte
  CHECK(rtm->rtm_type == RTN_UNICAST);
  CHECK(rtm->rtm_scope == RT_SCOPE_UNIVERSE);
  CHECK(rtm->rtm_protocol == RTPROT_BOOT);
  auto a = collect(nlh, sizeof(rtmsg));
  CHECK(as_u32(a.at(RTA_TABLE)) == 1234);
  CHECK(a.at(RTA_GATEWAY) == std::vector<std::uint8_t>(gw.begin(), gw.end()));
  CHECK(as_u32(a.at(RTA_OIF)) == 3);
  CHECK(a.count(RTA_DST) == 0);

  const std::array<std::uint8_t, 16> gw6{0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  const nlmsghdr* del = build_table_default_route(buf.data(), 6, route_op::remove, AF_INET6, 100, 3, gw6);
  CHECK(del->nlmsg_type == RTM_DELROUTE);
  CHECK(del->nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK));
  CHECK(rtmsg_of(del)->rtm_family == AF_INET6);
  CHECK(rtmsg_of(del)->rtm_table == 100);
  CHECK(rtmsg_of(del)->rtm_scope == RT_SCOPE_NOWHERE);
  CHECK(rtmsg_of(del)->rtm_protocol == RTPROT_UNSPEC);
  auto b = collect(del, sizeof(rtmsg));
  CHECK(as_u32(b.at(RTA_TABLE)) == 100);
  CHECK(b.at(RTA_GATEWAY) == std::vector<std::uint8_t>(gw6.begin(), gw6.end()));
}

TEST_CASE("table default route without a gateway: a link-scope device route", "[rtnetlink]") {
  auto buf = buffer();
  const nlmsghdr* nlh = build_table_default_route(buf.data(), 7, route_op::add, AF_INET6, 0x4e490001, 9, {});
  const rtmsg* rtm = rtmsg_of(nlh);
  CHECK(rtm->rtm_family == AF_INET6);
  CHECK(rtm->rtm_type == RTN_UNICAST);
  CHECK(rtm->rtm_scope == RT_SCOPE_LINK);
  auto a = collect(nlh, sizeof(rtmsg));
  CHECK(a.count(RTA_GATEWAY) == 0);
  CHECK(as_u32(a.at(RTA_OIF)) == 9);
  CHECK(as_u32(a.at(RTA_TABLE)) == 0x4e490001);
}

TEST_CASE("local default route on lo for TPROXY", "[rtnetlink]") {
  auto buf = buffer();
  const nlmsghdr* nlh = build_local_default_route(buf.data(), 7, route_op::add, AF_INET6, 1234, 1);
  CHECK(nlh->nlmsg_type == RTM_NEWROUTE);
  const rtmsg* rtm = rtmsg_of(nlh);
  CHECK(rtm->rtm_family == AF_INET6);
  CHECK(rtm->rtm_dst_len == 0);
  CHECK(rtm->rtm_type == RTN_LOCAL);
  CHECK(rtm->rtm_scope == RT_SCOPE_HOST);
  auto a = collect(nlh, sizeof(rtmsg));
  CHECK(as_u32(a.at(RTA_TABLE)) == 1234);
  CHECK(as_u32(a.at(RTA_OIF)) == 1);
  CHECK(a.count(RTA_GATEWAY) == 0);

  const nlmsghdr* del = build_local_default_route(buf.data(), 8, route_op::remove, AF_INET, 1234, 1);
  CHECK(del->nlmsg_type == RTM_DELROUTE);
  CHECK(rtmsg_of(del)->rtm_type == RTN_LOCAL);
  CHECK(rtmsg_of(del)->rtm_family == AF_INET);
}

TEST_CASE("fwmark rule: add is exclusive, delete names the same rule", "[rtnetlink]") {
  auto buf = buffer();
  const fwmark_rule rule{.fwmark = 0x100, .fwmask = 0xff00, .table = 1234, .priority = 90};
  const nlmsghdr* nlh = build_fwmark_rule(buf.data(), 9, route_op::add, AF_INET, rule);
  CHECK(nlh->nlmsg_type == RTM_NEWRULE);
  CHECK(nlh->nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL));
  const auto* frh = static_cast<const fib_rule_hdr*>(mnl_nlmsg_get_payload(nlh));
  CHECK(frh->family == AF_INET);
  CHECK(frh->action == FR_ACT_TO_TBL);
  CHECK(frh->table == RT_TABLE_UNSPEC);
  CHECK(frh->dst_len == 0);
  CHECK(frh->src_len == 0);
  auto a = collect(nlh, sizeof(fib_rule_hdr));
  CHECK(as_u32(a.at(FRA_FWMARK)) == 0x100);
  CHECK(as_u32(a.at(FRA_FWMASK)) == 0xff00);
  CHECK(as_u32(a.at(FRA_TABLE)) == 1234);
  CHECK(as_u32(a.at(FRA_PRIORITY)) == 90);

  const nlmsghdr* del = build_fwmark_rule(buf.data(), 10, route_op::remove, AF_INET6, {.fwmark = 1, .table = 7});
  CHECK(del->nlmsg_type == RTM_DELRULE);
  CHECK(del->nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK));
  const auto* dfrh = static_cast<const fib_rule_hdr*>(mnl_nlmsg_get_payload(del));
  CHECK(dfrh->family == AF_INET6);
  CHECK(dfrh->table == 7);
  auto b = collect(del, sizeof(fib_rule_hdr));
  CHECK(as_u32(b.at(FRA_FWMASK)) == 0xffffffff);
  CHECK(as_u32(b.at(FRA_TABLE)) == 7);
}

TEST_CASE("dump requests ask for a dump of the right family", "[rtnetlink]") {
  auto buf = buffer();
  const nlmsghdr* links = build_link_dump(buf.data(), 1);
  CHECK(links->nlmsg_type == RTM_GETLINK);
  CHECK(links->nlmsg_flags == (NLM_F_REQUEST | NLM_F_DUMP));
  CHECK(links->nlmsg_len == mnl_nlmsg_size(sizeof(ifinfomsg)));

  const nlmsghdr* addrs = build_addr_dump(buf.data(), 2, AF_INET);
  CHECK(addrs->nlmsg_type == RTM_GETADDR);
  CHECK(static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(addrs))->ifa_family == AF_INET);

  const nlmsghdr* routes = build_route_dump(buf.data(), 3, AF_INET6);
  CHECK(routes->nlmsg_type == RTM_GETROUTE);
  CHECK(routes->nlmsg_flags == (NLM_F_REQUEST | NLM_F_DUMP));
  CHECK(rtmsg_of(routes)->rtm_family == AF_INET6);

  const nlmsghdr* rules = build_rule_dump(buf.data(), 4, AF_INET);
  CHECK(rules->nlmsg_type == RTM_GETRULE);
  CHECK(static_cast<const fib_rule_hdr*>(mnl_nlmsg_get_payload(rules))->family == AF_INET);
}
