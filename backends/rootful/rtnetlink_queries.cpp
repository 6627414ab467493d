// rtnetlink dumps for the rootful backend (see rtnetlink_queries.hpp).
#include "backends/rootful/rtnetlink_queries.hpp"

#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <tuple>

namespace netpen::backends::rootful {
namespace {

// Attributes of one level, by type; types past the table are ignored.
template <std::size_t N>
using attr_table = std::array<const nlattr*, N>;

template <std::size_t N>
int keep_attr(const nlattr* a, void* data) {
  auto* tb = static_cast<attr_table<N>*>(data);
  const auto type = mnl_attr_get_type(a);
  if (type < N) (*tb)[type] = a;
  return MNL_CB_OK;
}

// The family header of `nlh` if the message is `type` and long enough,
// with its attributes in `tb`.
template <class Header, std::size_t N>
const Header* read_message(const nlmsghdr* nlh, std::uint16_t type, attr_table<N>& tb) {
  if (nlh->nlmsg_type != type || mnl_nlmsg_get_payload_len(nlh) < sizeof(Header)) return nullptr;
  tb.fill(nullptr);
  if (mnl_attr_parse(nlh, sizeof(Header), keep_attr<N>, &tb) < 0) return nullptr;
  return static_cast<const Header*>(mnl_nlmsg_get_payload(nlh));
}

std::vector<std::uint8_t> bytes_of(const nlattr* a) {
  if (a == nullptr) return {};
  const auto* p = static_cast<const std::uint8_t*>(mnl_attr_get_payload(a));
  return {p, p + mnl_attr_get_payload_len(a)};
}

std::uint32_t u32_of(const nlattr* a, std::uint32_t absent) {
  if (a == nullptr || mnl_attr_validate(a, MNL_TYPE_U32) < 0) return absent;
  return mnl_attr_get_u32(a);
}

// RTA_VIA (a gateway of another family): the address after rtvia_family.
std::vector<std::uint8_t> via_of(const nlattr* a) {
  auto b = bytes_of(a);
  if (b.size() <= sizeof(__kernel_sa_family_t)) return {};
  b.erase(b.begin(), b.begin() + sizeof(__kernel_sa_family_t));
  return b;
}

constexpr std::size_t align4(std::size_t n) { return (n + 3U) & ~std::size_t{3}; }

// RTA_MULTIPATH: a run of struct rtnexthop, each followed by its attributes.
std::vector<next_hop> hops_of(const nlattr* multipath) {
  std::vector<next_hop> hops;
  const auto* p = static_cast<const std::uint8_t*>(mnl_attr_get_payload(multipath));
  std::size_t left = mnl_attr_get_payload_len(multipath);
  while (left >= sizeof(rtnexthop)) {
    rtnexthop nh{};
    std::memcpy(&nh, p, sizeof(nh));
    if (nh.rtnh_len < sizeof(rtnexthop) || nh.rtnh_len > left) break;
    next_hop hop{.ifindex = nh.rtnh_ifindex, .gateway = {}};
    attr_table<RTA_MAX + 1> tb{};
    constexpr std::size_t head = align4(sizeof(rtnexthop));
    if (nh.rtnh_len > head) mnl_attr_parse_payload(p + head, nh.rtnh_len - head, keep_attr<RTA_MAX + 1>, &tb);
    hop.gateway = tb[RTA_GATEWAY] != nullptr ? bytes_of(tb[RTA_GATEWAY]) : via_of(tb[RTA_VIA]);
    hops.push_back(std::move(hop));
    const std::size_t step = std::min(align4(nh.rtnh_len), left);
    p += step;
    left -= step;
  }
  return hops;
}

// Runs a dump and parses every message, starting again (a few times) when
// the kernel says the table changed during the dump.
template <class Entry, class Build, class Parse>
result<std::vector<Entry>> collect(rtnetlink& nl, const char* what, Build build, Parse parse) {
  constexpr int attempts = 3;
  for (int i = 1;; ++i) {
    std::vector<Entry> out;
    auto r = nl.dump(what, build, [&](const nlmsghdr* nlh) {
      if (auto e = parse(nlh)) out.push_back(std::move(*e));
    });
    if (r) return out;
    if (r.error().code != "netlink-dump-interrupted" || i == attempts) return unexpected(r.error());
  }
}

}  // namespace

nlmsghdr* build_link_dump(char* buf, std::uint32_t seq) {
  nlmsghdr* nlh = start_dump(buf, RTM_GETLINK, seq);
  put_family_header<ifinfomsg>(nlh)->ifi_family = AF_UNSPEC;
  return nlh;
}

nlmsghdr* build_addr_dump(char* buf, std::uint32_t seq, int family) {
  nlmsghdr* nlh = start_dump(buf, RTM_GETADDR, seq);
  put_family_header<ifaddrmsg>(nlh)->ifa_family = static_cast<std::uint8_t>(family);
  return nlh;
}

nlmsghdr* build_route_dump(char* buf, std::uint32_t seq, int family) {
  nlmsghdr* nlh = start_dump(buf, RTM_GETROUTE, seq);
  put_family_header<rtmsg>(nlh)->rtm_family = static_cast<std::uint8_t>(family);
  return nlh;
}

nlmsghdr* build_rule_dump(char* buf, std::uint32_t seq, int family) {
  nlmsghdr* nlh = start_dump(buf, RTM_GETRULE, seq);
  put_family_header<fib_rule_hdr>(nlh)->family = static_cast<std::uint8_t>(family);
  return nlh;
}

std::optional<link_entry> parse_link(const nlmsghdr* nlh) {
  attr_table<IFLA_MAX + 1> tb{};
  const auto* ifm = read_message<ifinfomsg>(nlh, RTM_NEWLINK, tb);
  if (ifm == nullptr || tb[IFLA_IFNAME] == nullptr || mnl_attr_validate(tb[IFLA_IFNAME], MNL_TYPE_NUL_STRING) < 0)
    return std::nullopt;
  return link_entry{.ifindex = ifm->ifi_index, .name = mnl_attr_get_str(tb[IFLA_IFNAME])};
}

std::optional<address_entry> parse_address(const nlmsghdr* nlh) {
  attr_table<IFA_MAX + 1> tb{};
  const auto* ifa = read_message<ifaddrmsg>(nlh, RTM_NEWADDR, tb);
  if (ifa == nullptr) return std::nullopt;
  address_entry e{.family = ifa->ifa_family,
                  .ifindex = static_cast<int>(ifa->ifa_index),
                  .prefix = ifa->ifa_prefixlen,
                  .local = bytes_of(tb[IFA_LOCAL] != nullptr ? tb[IFA_LOCAL] : tb[IFA_ADDRESS]),
                  .address = bytes_of(tb[IFA_ADDRESS] != nullptr ? tb[IFA_ADDRESS] : tb[IFA_LOCAL]),
                  .flags = u32_of(tb[IFA_FLAGS], ifa->ifa_flags)};
  if (e.local.empty()) return std::nullopt;
  return e;
}

std::optional<route_entry> parse_route(const nlmsghdr* nlh) {
  attr_table<RTA_MAX + 1> tb{};
  const auto* rtm = read_message<rtmsg>(nlh, RTM_NEWROUTE, tb);
  if (rtm == nullptr) return std::nullopt;
  route_entry e{.family = rtm->rtm_family,
                .table = u32_of(tb[RTA_TABLE], rtm->rtm_table),
                .type = rtm->rtm_type,
                .dst_len = rtm->rtm_dst_len,
                .dst = bytes_of(tb[RTA_DST]),
                .tos = rtm->rtm_tos,
                .metric = u32_of(tb[RTA_PRIORITY], 0),
                .cloned = (rtm->rtm_flags & RTM_F_CLONED) != 0,
                .hops = {}};
  if (tb[RTA_MULTIPATH] != nullptr) {
    e.hops = hops_of(tb[RTA_MULTIPATH]);
  } else {
    e.hops.push_back(next_hop{
        .ifindex = static_cast<int>(u32_of(tb[RTA_OIF], 0)),
        .gateway = tb[RTA_GATEWAY] != nullptr ? bytes_of(tb[RTA_GATEWAY]) : via_of(tb[RTA_VIA])});
  }
  return e;
}

std::optional<rule_entry> parse_rule(const nlmsghdr* nlh) {
  attr_table<FRA_MAX + 1> tb{};
  const auto* frh = read_message<fib_rule_hdr>(nlh, RTM_NEWRULE, tb);
  if (frh == nullptr) return std::nullopt;
  const std::uint32_t mark = u32_of(tb[FRA_FWMARK], 0);
  return rule_entry{.family = frh->family,
                    .table = u32_of(tb[FRA_TABLE], frh->table),
                    .priority = u32_of(tb[FRA_PRIORITY], 0),
                    .fwmark = mark,
                    .fwmask = u32_of(tb[FRA_FWMASK], tb[FRA_FWMARK] != nullptr ? 0xffffffffU : 0U),
                    .action = frh->action};
}

std::vector<default_route> default_routes_in(std::span<const route_entry> routes, std::uint32_t table) {
  std::vector<default_route> out;
  for (const auto& r : routes) {
    if (r.table != table || r.dst_len != 0 || r.type != RTN_UNICAST || r.cloned) continue;
    for (const auto& h : r.hops)
      out.push_back(default_route{.family = r.family, .ifindex = h.ifindex, .gateway = h.gateway, .metric = r.metric});
  }
  std::stable_sort(out.begin(), out.end(), [](const default_route& a, const default_route& b) {
    return std::tie(a.family, a.metric) < std::tie(b.family, b.metric);
  });
  return out;
}

std::vector<std::uint32_t> tables_used_by(std::span<const rule_entry> rules) {
  std::vector<std::uint32_t> out;
  for (const auto& r : rules)
    if (r.action == FR_ACT_TO_TBL) out.push_back(r.table);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

result<std::vector<link_entry>> list_links(rtnetlink& nl) {
  return collect<link_entry>(
      nl, "listing links", [](char* b, std::uint32_t s) { return build_link_dump(b, s); }, parse_link);
}

result<std::vector<address_entry>> list_addresses(rtnetlink& nl, int family) {
  return collect<address_entry>(
      nl, "listing addresses", [family](char* b, std::uint32_t s) { return build_addr_dump(b, s, family); },
      parse_address);
}

result<std::vector<route_entry>> list_routes(rtnetlink& nl, int family) {
  return collect<route_entry>(
      nl, "listing routes", [family](char* b, std::uint32_t s) { return build_route_dump(b, s, family); },
      parse_route);
}

result<std::vector<rule_entry>> list_rules(rtnetlink& nl, int family) {
  return collect<rule_entry>(
      nl, "listing routing rules", [family](char* b, std::uint32_t s) { return build_rule_dump(b, s, family); },
      parse_rule);
}

result<std::vector<default_route>> list_default_routes(rtnetlink& nl, std::uint32_t table) {
  std::vector<route_entry> all;
  for (const int family : {AF_INET, AF_INET6}) {
    auto routes = list_routes(nl, family);
    if (!routes) return unexpected(routes.error());
    all.insert(all.end(), routes->begin(), routes->end());
  }
  return default_routes_in(all, table);
}

result<std::vector<std::uint32_t>> list_rule_tables(rtnetlink& nl) {
  std::vector<rule_entry> all;
  for (const int family : {AF_INET, AF_INET6}) {
    auto rules = list_rules(nl, family);
    if (!rules) return unexpected(rules.error());
    all.insert(all.end(), rules->begin(), rules->end());
  }
  return tables_used_by(all);
}

}  // namespace netpen::backends::rootful
