// What the rootful backend reads from the kernel over rtnetlink dumps: link
// names (is a name free?), addresses with prefix lengths (which private /30
// is free?), routes and a table's default routes (which gateway does --iface
// use?), policy rules and the tables they use (which table id is free?).
// Parsing one dump message is pure and unit-tested; the list_* functions
// run the dump on an open socket (retrying if the table changed meanwhile).
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "backends/common/rtnetlink.hpp"
#include "net/common/error.hpp"

struct nlmsghdr;

namespace netpen::backends::rootful {

struct link_entry {
  int ifindex = 0;
  std::string name;
};

struct address_entry {
  int family = 0;
  int ifindex = 0;
  int prefix = 0;
  std::vector<std::uint8_t> local;    // the interface's own address
  std::vector<std::uint8_t> address;  // the prefix's base: the peer on point-to-point links, else == local
  std::uint32_t flags = 0;            // IFA_F_*
};

struct next_hop {
  int ifindex = 0;
  std::vector<std::uint8_t> gateway;  // empty: directly connected; 4 or 16 bytes otherwise
};

struct route_entry {
  int family = 0;
  std::uint32_t table = 0;
  int type = 0;  // RTN_*
  int dst_len = 0;
  std::vector<std::uint8_t> dst;  // empty for a default route
  int tos = 0;                    // IPv4 only; part of what names the route
  std::uint32_t metric = 0;
  bool cloned = false;          // RTM_F_CLONED: a cache entry, not a configured route
  std::vector<next_hop> hops;   // one, or several for a multipath route
};

struct rule_entry {
  int family = 0;
  std::uint32_t table = 0;
  std::uint32_t priority = 0;
  std::uint32_t fwmark = 0;
  std::uint32_t fwmask = 0;
  int action = 0;  // FR_ACT_*
};

// A table's default route flattened to one next hop.
struct default_route {
  int family = 0;
  int ifindex = 0;
  std::vector<std::uint8_t> gateway;  // empty: a device route without a gateway
  std::uint32_t metric = 0;
};

// Dump requests; `family` AF_UNSPEC asks for every family.
nlmsghdr* build_link_dump(char* buf, std::uint32_t seq);
nlmsghdr* build_addr_dump(char* buf, std::uint32_t seq, int family);
nlmsghdr* build_route_dump(char* buf, std::uint32_t seq, int family);
nlmsghdr* build_rule_dump(char* buf, std::uint32_t seq, int family);

// One dump message each; nullopt when it is not that kind or is malformed.
std::optional<link_entry> parse_link(const nlmsghdr* nlh);
std::optional<address_entry> parse_address(const nlmsghdr* nlh);
std::optional<route_entry> parse_route(const nlmsghdr* nlh);
std::optional<rule_entry> parse_rule(const nlmsghdr* nlh);

// Unicast, non-cached default routes of `table`, one per next hop, ordered
// by family then metric.
std::vector<default_route> default_routes_in(std::span<const route_entry> routes, std::uint32_t table);
// The tables rules send lookups to (FR_ACT_TO_TBL), sorted, each once.
std::vector<std::uint32_t> tables_used_by(std::span<const rule_entry> rules);

result<std::vector<link_entry>> list_links(rtnetlink& nl);
result<std::vector<address_entry>> list_addresses(rtnetlink& nl, int family);
result<std::vector<route_entry>> list_routes(rtnetlink& nl, int family);
result<std::vector<rule_entry>> list_rules(rtnetlink& nl, int family);
// The default routes of `table` for both families.
result<std::vector<default_route>> list_default_routes(rtnetlink& nl, std::uint32_t table);
// The tables used by the IPv4 and IPv6 rules together.
result<std::vector<std::uint32_t>> list_rule_tables(rtnetlink& nl);

}  // namespace netpen::backends::rootful
