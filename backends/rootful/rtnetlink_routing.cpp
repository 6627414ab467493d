// Route and policy-rule requests for the rootful backend (see
// rtnetlink_routing.hpp).
#include "backends/rootful/rtnetlink_routing.hpp"

#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>

#include "backends/common/rtnetlink.hpp"

namespace netpen::backends::rootful {
namespace {

// Tables above 255 do not fit the header byte: RTA_TABLE / FRA_TABLE carry
// the full id, and the header says RT_TABLE_UNSPEC (as iproute2 does).
std::uint8_t header_table(std::uint32_t table) {
  return table < 256 ? static_cast<std::uint8_t>(table) : static_cast<std::uint8_t>(RT_TABLE_UNSPEC);
}

// A default (dst_len 0) route request for `table`. Deletion leaves protocol
// unset and the scope a wildcard so it matches what was added.
nlmsghdr* start_default_route(char* buf, std::uint32_t seq, route_op op, int family, std::uint32_t table,
                              unsigned char type, unsigned char scope) {
  const bool add = op == route_op::add;
  nlmsghdr* nlh = start_request(buf, add ? RTM_NEWROUTE : RTM_DELROUTE,
                                add ? static_cast<std::uint16_t>(NLM_F_CREATE | NLM_F_REPLACE) : 0, seq);
  auto* rtm = put_family_header<rtmsg>(nlh);
  rtm->rtm_family = static_cast<std::uint8_t>(family);
  rtm->rtm_dst_len = 0;
  rtm->rtm_table = header_table(table);
  rtm->rtm_protocol = add ? static_cast<std::uint8_t>(RTPROT_BOOT) : static_cast<std::uint8_t>(RTPROT_UNSPEC);
  rtm->rtm_scope = add ? scope : static_cast<std::uint8_t>(RT_SCOPE_NOWHERE);
  rtm->rtm_type = type;
  mnl_attr_put_u32(nlh, RTA_TABLE, table);
  return nlh;
}

}  // namespace

nlmsghdr* build_table_default_route(char* buf, std::uint32_t seq, route_op op, int family, std::uint32_t table,
                                    int ifindex, std::span<const std::uint8_t> gateway) {
  nlmsghdr* nlh = start_default_route(buf, seq, op, family, table, RTN_UNICAST,
                                      gateway.empty() ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE);
  if (!gateway.empty()) mnl_attr_put(nlh, RTA_GATEWAY, gateway.size(), gateway.data());
  mnl_attr_put_u32(nlh, RTA_OIF, static_cast<std::uint32_t>(ifindex));
  return nlh;
}

nlmsghdr* build_local_default_route(char* buf, std::uint32_t seq, route_op op, int family, std::uint32_t table,
                                    int lo_ifindex) {
  nlmsghdr* nlh = start_default_route(buf, seq, op, family, table, RTN_LOCAL, RT_SCOPE_HOST);
  mnl_attr_put_u32(nlh, RTA_OIF, static_cast<std::uint32_t>(lo_ifindex));
  return nlh;
}

nlmsghdr* build_fwmark_rule(char* buf, std::uint32_t seq, route_op op, int family, const fwmark_rule& rule) {
  const bool add = op == route_op::add;
  nlmsghdr* nlh = start_request(buf, add ? RTM_NEWRULE : RTM_DELRULE,
                                add ? static_cast<std::uint16_t>(NLM_F_CREATE | NLM_F_EXCL) : 0, seq);
  auto* frh = put_family_header<fib_rule_hdr>(nlh);
  frh->family = static_cast<std::uint8_t>(family);
  frh->table = header_table(rule.table);
  frh->action = FR_ACT_TO_TBL;
  mnl_attr_put_u32(nlh, FRA_FWMARK, rule.fwmark);
  mnl_attr_put_u32(nlh, FRA_FWMASK, rule.fwmask);
  mnl_attr_put_u32(nlh, FRA_TABLE, rule.table);
  mnl_attr_put_u32(nlh, FRA_PRIORITY, rule.priority);
  return nlh;
}

}  // namespace netpen::backends::rootful
