// Kernel test of the rtnetlink requests and dumps ([root]; skipped, ctest:
// Not Run, otherwise). A forked child (private_netns) in a fresh network
// namespace A unshares a second one, B, so nothing touches the host's own
// network and no packet leaves the machine: a veth pair from A into B, a
// rename, addresses (IPv6 with NODAD), fwmark rules, local and gateway
// default routes in tables 1234/1235, each dumped back, then the pair
// deleted. Then a second pair configured by one batched request (no IPv6
// link-local address, addresses, a route), and a batch whose middle request
// is refused: the error names that step and the later requests still apply.
// The child reports the first failure; every wait is bounded.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <string>

#include "backends/common/rtnetlink.hpp"
#include "backends/common/unique_fd.hpp"
#include "backends/rootful/rtnetlink_links.hpp"
#include "backends/rootful/rtnetlink_queries.hpp"
#include "backends/rootful/rtnetlink_routing.hpp"
#include "tests/unit/private_netns.hpp"

using namespace netpen::backends;
using namespace netpen::backends::rootful;

namespace {

using bytes = std::vector<std::uint8_t>;

std::string failed(const std::string& step, const netpen::error& e) { return step + ": " + e.message; }
std::string failed_or_empty(const netpen::result<void>& r) { return r ? std::string() : failed("cleanup", r.error()); }

bool has_link(const std::vector<link_entry>& links, std::string_view name) {
  return std::any_of(links.begin(), links.end(), [&](const link_entry& l) { return l.name == name; });
}

bool has_table(const std::vector<std::uint32_t>& tables, std::uint32_t t) {
  return std::find(tables.begin(), tables.end(), t) != tables.end();
}

// Local default routes of `table` in `family`.
netpen::result<std::size_t> local_defaults(rtnetlink& nl, int family, std::uint32_t table) {
  auto routes = list_routes(nl, family);
  if (!routes) return netpen::unexpected(routes.error());
  return static_cast<std::size_t>(std::count_if(routes->begin(), routes->end(), [&](const route_entry& r) {
    return r.table == table && r.type == RTN_LOCAL && r.dst_len == 0;
  }));
}

std::string links_and_addresses(rtnetlink& nl, rtnetlink& nl_b, int ns_b) {
  if (auto r = nl.request("creating the veth pair", [&](char* b, std::uint32_t s) {
        return build_veth_create(b, s, "nptest0", "nptest1", ns_b, 1400);
      });
      !r)
    return failed("veth create", r.error());
  auto again = nl.request("creating it again", [&](char* b, std::uint32_t s) {
    return build_veth_create(b, s, "nptest0", "nptest1", ns_b, 1400);
  });
  if (again) return "creating the same veth pair twice succeeded";
  auto links = list_links(nl);
  auto links_b = list_links(nl_b);
  if (!links || !links_b) return "listing links failed";
  if (!has_link(*links, "nptest0") || has_link(*links, "nptest1")) return "nptest0 not in A, or nptest1 in A";
  if (!has_link(*links_b, "nptest1")) return "the peer nptest1 is not in B";

  auto index = ifindex_of("nptest0");
  if (!index) return failed("ifindex_of", index.error());
  if (auto r = nl.request("renaming", [&](char* b, std::uint32_t s) { return build_link_rename(b, s, *index, "nptest-r"); });
      !r)
    return failed("rename", r.error());
  auto renamed = ifindex_of("nptest-r");
  if (!renamed || *renamed != *index) return "the renamed link has another index";
  if (ifindex_of("nptest0")) return "the old name still exists";

  const auto peer = std::find_if(links_b->begin(), links_b->end(), [](const link_entry& l) { return l.name == "nptest1"; });
  if (auto r = nl.request("link up", [&](char* b, std::uint32_t s) { return build_link_set(b, s, {.ifindex = *index}); }); !r)
    return failed("link up", r.error());
  if (auto r = nl_b.request("peer up", [&](char* b, std::uint32_t s) { return build_link_set(b, s, {.ifindex = peer->ifindex}); });
      !r)
    return failed("peer up", r.error());

  const std::array<std::uint8_t, 4> v4{10, 77, 0, 1};
  std::array<std::uint8_t, 16> v6{};
  ::inet_pton(AF_INET6, "fd00:77::1", v6.data());
  if (auto r = nl.request("v4 address", [&](char* b, std::uint32_t s) { return build_addr_add(b, s, *index, AF_INET, v4, 30, 0); });
      !r)
    return failed("v4 address", r.error());
  if (auto r = nl.request("v6 address",
                          [&](char* b, std::uint32_t s) { return build_addr_add(b, s, *index, AF_INET6, v6, 64, IFA_F_NODAD); });
      !r)
    return failed("v6 address", r.error());
  auto a4 = list_addresses(nl, AF_INET);
  auto a6 = list_addresses(nl, AF_INET6);
  if (!a4 || !a6) return "listing addresses failed";
  if (std::none_of(a4->begin(), a4->end(), [&](const address_entry& a) {
        return a.ifindex == *index && a.prefix == 30 && a.local == bytes(v4.begin(), v4.end());
      }))
    return "10.77.0.1/30 not dumped back";
  if (std::none_of(a6->begin(), a6->end(), [&](const address_entry& a) {
        return a.ifindex == *index && a.prefix == 64 && a.local == bytes(v6.begin(), v6.end()) &&
               (a.flags & IFA_F_NODAD) != 0 && (a.flags & IFA_F_TENTATIVE) == 0;
      }))
    return "fd00:77::1/64 (NODAD, not tentative) not dumped back";
  return {};
}

std::string rules_and_routes(rtnetlink& nl) {
  const fwmark_rule rule{.fwmark = 0x100, .fwmask = 0xff00, .table = 1234, .priority = 100};
  for (const int family : {AF_INET, AF_INET6}) {
    if (auto r = nl.request("rule add", [&](char* b, std::uint32_t s) { return build_fwmark_rule(b, s, route_op::add, family, rule); });
        !r)
      return failed("rule add", r.error());
    if (nl.request("rule add again", [&](char* b, std::uint32_t s) { return build_fwmark_rule(b, s, route_op::add, family, rule); }))
      return "adding the same rule twice succeeded";
  }
  auto rules = list_rules(nl, AF_INET6);
  if (!rules) return failed("list rules", rules.error());
  if (std::none_of(rules->begin(), rules->end(), [](const rule_entry& r) {
        return r.table == 1234 && r.priority == 100 && r.fwmark == 0x100 && r.fwmask == 0xff00 && r.action == FR_ACT_TO_TBL;
      }))
    return "the IPv6 fwmark rule not dumped back";
  auto tables = list_rule_tables(nl);
  if (!tables || !has_table(*tables, 1234) || !has_table(*tables, RT_TABLE_MAIN)) return "rule tables lack 1234 or main";
  for (const int family : {AF_INET, AF_INET6}) {
    if (auto r = nl.request("rule del", [&](char* b, std::uint32_t s) { return build_fwmark_rule(b, s, route_op::remove, family, rule); });
        !r)
      return failed("rule del", r.error());
  }
  tables = list_rule_tables(nl);
  if (!tables || has_table(*tables, 1234)) return "table 1234 still used after deleting the rules";

  auto lo = ifindex_of("lo");
  if (!lo) return failed("lo", lo.error());
  for (const int family : {AF_INET, AF_INET6}) {
    if (auto r = nl.request("local route",
                            [&](char* b, std::uint32_t s) { return build_local_default_route(b, s, route_op::add, family, 1234, *lo); });
        !r)
      return failed("local route add", r.error());
    auto n = local_defaults(nl, family, 1234);
    if (!n || *n != 1) return "the local default route not dumped back";
    if (auto r = nl.request("local route del",
                            [&](char* b, std::uint32_t s) { return build_local_default_route(b, s, route_op::remove, family, 1234, *lo); });
        !r)
      return failed("local route del", r.error());
    n = local_defaults(nl, family, 1234);
    if (!n || *n != 0) return "the local default route still there after deleting it";
  }

  auto dev = ifindex_of("nptest-r");
  if (!dev) return failed("nptest-r", dev.error());
  const std::array<std::uint8_t, 4> gw4{10, 77, 0, 2};
  std::array<std::uint8_t, 16> gw6{};
  ::inet_pton(AF_INET6, "fd00:77::2", gw6.data());
  if (auto r = nl.request("v4 default", [&](char* b, std::uint32_t s) {
        return build_table_default_route(b, s, route_op::add, AF_INET, 1235, *dev, gw4);
      });
      !r)
    return failed("v4 default route", r.error());
  if (auto r = nl.request("v6 default", [&](char* b, std::uint32_t s) {
        return build_table_default_route(b, s, route_op::add, AF_INET6, 1235, *dev, gw6);
      });
      !r)
    return failed("v6 default route", r.error());
  auto defaults = list_default_routes(nl, 1235);
  if (!defaults) return failed("list default routes", defaults.error());
  if (defaults->size() != 2 || (*defaults)[0].family != AF_INET || (*defaults)[0].gateway != bytes(gw4.begin(), gw4.end()) ||
      (*defaults)[0].ifindex != *dev || (*defaults)[1].family != AF_INET6 ||
      (*defaults)[1].gateway != bytes(gw6.begin(), gw6.end()))
    return "table 1235's default routes not dumped back";
  if (auto main_defaults = list_default_routes(nl, RT_TABLE_MAIN); !main_defaults || !main_defaults->empty())
    return "the main table has default routes";
  for (const int family : {AF_INET, AF_INET6}) {
    if (auto r = nl.request("default del", [&](char* b, std::uint32_t s) {
          return family == AF_INET ? build_table_default_route(b, s, route_op::remove, family, 1235, *dev, gw4)
                                   : build_table_default_route(b, s, route_op::remove, family, 1235, *dev, gw6);
        });
        !r)
      return failed("default route del", r.error());
  }
  defaults = list_default_routes(nl, 1235);
  if (!defaults || !defaults->empty()) return "table 1235 still has default routes";
  return {};
}

std::string deletion(rtnetlink& nl, rtnetlink& nl_b) {
  if (auto r = nl.request("delete", [](char* b, std::uint32_t s) { return build_link_delete(b, s, "nptest-r"); }); !r)
    return failed("link delete", r.error());
  if (ifindex_of("nptest-r")) return "nptest-r still exists";
  auto links_b = list_links(nl_b);
  if (!links_b || has_link(*links_b, "nptest1")) return "the peer survived deleting its pair";
  if (auto r = delete_link_if_present(nl, "nptest-r"); !r) return failed("delete_link_if_present", r.error());
  if (nl.request("delete again", [](char* b, std::uint32_t s) { return build_link_delete(b, s, "nptest-r"); }))
    return "deleting a missing link succeeded";
  return {};
}

std::string batches(rtnetlink& nl, int ns_b) {
  if (auto r = nl.request("creating the batch pair", [&](char* b, std::uint32_t s) {
        return build_veth_create(b, s, "npbatch0", "npbatch1", ns_b, 1500);
      });
      !r)
    return failed("batch veth", r.error());
  auto index = ifindex_of("npbatch0");
  if (!index) return failed("ifindex_of", index.error());
  const std::array<std::uint8_t, 4> v4{10, 78, 0, 1};
  const std::array<std::uint8_t, 16> v6{0xfd, 0, 0, 0x78, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  const std::array<std::uint8_t, 4> gw4{10, 78, 0, 2};
  const link_settings down{.ifindex = *index, .up = false, .mtu = 1400, .no_ipv6_link_local = true};
  auto done = nl.request_batch({
      {"no link-local", [&](char* b, std::uint32_t s) { return build_link_set(b, s, down); }},
      {"up", [&](char* b, std::uint32_t s) { return build_link_set(b, s, link_settings{.ifindex = *index}); }},
      {"v4", [&](char* b, std::uint32_t s) { return build_addr_add(b, s, *index, AF_INET, v4, 24, 0); }},
      {"skipped", {}},
      {"v6", [&](char* b, std::uint32_t s) { return build_addr_add(b, s, *index, AF_INET6, v6, 64, IFA_F_NODAD); }},
      {"route", [&](char* b, std::uint32_t s) { return build_default_route(b, s, *index, AF_INET, gw4); }},
  });
  if (!done) return failed("batch", done.error());
  auto a6 = list_addresses(nl, AF_INET6);
  auto a4 = list_addresses(nl, AF_INET);
  if (!a4 || !a6) return "listing addresses failed";
  const auto on_link = [&](const address_entry& a) { return a.ifindex == *index; };
  if (std::count_if(a4->begin(), a4->end(), on_link) != 1) return "the batch's IPv4 address is missing";
  // Only the batch's own IPv6 address: no fe80:: link-local was generated.
  if (std::count_if(a6->begin(), a6->end(), on_link) != 1) return "npbatch0 has other IPv6 addresses than fd00:78::1";

  // The second request is refused (a route through a gateway no address
  // reaches); the third still applies, and the error names the second.
  const std::array<std::uint8_t, 4> unreachable{192, 0, 2, 1};
  const std::array<std::uint8_t, 4> extra{10, 78, 0, 9};
  auto refused = nl.request_batch({
      {"first", [&](char* b, std::uint32_t s) { return build_link_set(b, s, link_settings{.ifindex = *index}); }},
      {"the unreachable route",
       [&](char* b, std::uint32_t s) { return build_default_route(b, s, *index, AF_INET, unreachable); }},
      {"third", [&](char* b, std::uint32_t s) { return build_addr_add(b, s, *index, AF_INET, extra, 24, 0); }},
  });
  if (refused) return "a batch with a refused request succeeded";
  if (refused.error().message.find("the unreachable route") == std::string::npos)
    return "the refusal does not name its step: " + refused.error().message;
  a4 = list_addresses(nl, AF_INET);
  if (!a4 || std::count_if(a4->begin(), a4->end(), on_link) != 2) return "the request after the refusal did not apply";
  return failed_or_empty(delete_link_if_present(nl, "npbatch0"));
}

// Runs in the forked child, already in namespace A: "" on success, else
// what failed.
std::string in_private_namespaces() {
  unique_fd ns_a(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (::unshare(CLONE_NEWNET) != 0) return std::string("second unshare: ") + std::strerror(errno);
  unique_fd ns_b(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!ns_a || !ns_b || ::setns(ns_a.get(), CLONE_NEWNET) != 0) return "cannot hold or re-enter the namespaces";

  auto nl = rtnetlink::open();
  if (!nl) return failed("open", nl.error());
  auto nl_b = rtnetlink::open_in(ns_b.get());
  if (!nl_b) return failed("open_in", nl_b.error());
  auto lo = ifindex_of("lo");
  if (!lo) return failed("lo", lo.error());
  if (auto r = nl->request("lo up", [&](char* b, std::uint32_t s) { return build_link_set(b, s, {.ifindex = *lo}); }); !r)
    return failed("lo up", r.error());

  if (auto e = links_and_addresses(*nl, *nl_b, ns_b.get()); !e.empty()) return e;
  if (auto e = rules_and_routes(*nl); !e.empty()) return e;
  if (auto e = deletion(*nl, *nl_b); !e.empty()) return e;
  return batches(*nl, ns_b.get());
}

}  // namespace

TEST_CASE("rtnetlink against the kernel, inside private network namespaces", "[rtnetlink][root]") {
  netns_test::check_in_private_netns(in_private_namespaces);
}
