// rtnetlink undo requests on the shared socket (see rtnetlink_undo.hpp).
#include "backends/rootful/rtnetlink_undo.hpp"

#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cerrno>

#include <fmt/format.h>
#include <libmnl/libmnl.h>

#include "backends/common/rtnetlink.hpp"
#include "backends/rootful/rtnetlink_queries.hpp"
#include "backends/rootful/rtnetlink_routing.hpp"

namespace netpen::backends::rootful {
namespace {

int af(ip_family f) { return f == ip_family::ipv4 ? AF_INET : AF_INET6; }

}  // namespace

nlmsghdr* build_rule_delete(char* buf, std::uint32_t seq, const ip_rule& rule) {
  return build_fwmark_rule(buf, seq, route_op::remove, af(rule.family),
                           fwmark_rule{rule.fwmark, rule.mask, rule.table, rule.priority});
}

nlmsghdr* build_route_delete(char* buf, std::uint32_t seq, const route_entry& route) {
  nlmsghdr* nlh = start_request(buf, RTM_DELROUTE, 0, seq);
  auto* rtm = put_family_header<rtmsg>(nlh);
  rtm->rtm_family = static_cast<std::uint8_t>(route.family);
  rtm->rtm_dst_len = static_cast<std::uint8_t>(route.dst_len);
  rtm->rtm_tos = static_cast<std::uint8_t>(route.tos);
  rtm->rtm_table = RT_TABLE_UNSPEC;  // the full id is in RTA_TABLE
  rtm->rtm_protocol = RTPROT_UNSPEC;
  rtm->rtm_scope = RT_SCOPE_NOWHERE;  // any scope
  rtm->rtm_type = static_cast<std::uint8_t>(route.type);
  mnl_attr_put_u32(nlh, RTA_TABLE, route.table);
  if (!route.dst.empty()) mnl_attr_put(nlh, RTA_DST, route.dst.size(), route.dst.data());
  if (route.metric != 0) mnl_attr_put_u32(nlh, RTA_PRIORITY, route.metric);
  return nlh;
}

result<void> delete_link(std::string_view name) {
  auto nl = rtnetlink::open();
  if (!nl) return unexpected(nl.error());
  return delete_link_if_present(*nl, name);
}

result<void> delete_rule(const ip_rule& rule) {
  auto nl = rtnetlink::open();
  if (!nl) return unexpected(nl.error());
  const std::string what = "deleting the " + describe(rule);
  return nl->request_tolerating(what.c_str(), ENOENT,
                                [&](char* b, std::uint32_t s) { return build_rule_delete(b, s, rule); });
}

result<void> flush_route_table(const route_table& table) {
  auto nl = rtnetlink::open();
  if (!nl) return unexpected(nl.error());
  auto routes = list_routes(*nl, af(table.family));
  if (!routes) return unexpected(routes.error());
  const std::string what = fmt::format("flushing {}", describe(table));
  for (const auto& route : *routes) {
    if (route.table != table.table || route.cloned) continue;
    auto r = nl->request_tolerating(what.c_str(), ESRCH,
                                    [&](char* b, std::uint32_t s) { return build_route_delete(b, s, route); });
    if (!r) return r;
  }
  return {};
}

}  // namespace netpen::backends::rootful
