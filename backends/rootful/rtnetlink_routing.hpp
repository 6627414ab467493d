// rtnetlink requests on routing for the rootful backend: default routes in
// a chosen table (via a gateway, or `local` on lo for TPROXY) and fwmark
// policy rules, each to add or to delete. Builders as in
// backends/common/rtnetlink.hpp; send them with rtnetlink::request.
#pragma once
#include <cstdint>
#include <span>

struct nlmsghdr;

namespace netpen::backends::rootful {

enum class route_op { add, remove };

// `ip route {add|del} default via GATEWAY dev IFINDEX table TABLE` for
// `family` (AF_INET: 4-byte gateway, AF_INET6: 16; empty: `default dev
// IFINDEX`, scope link, as for a point-to-point link). Adding replaces an
// existing default route of that table.
nlmsghdr* build_table_default_route(char* buf, std::uint32_t seq, route_op op, int family, std::uint32_t table,
                                    int ifindex, std::span<const std::uint8_t> gateway);

// `ip route {add|del} local 0.0.0.0/0 (or ::/0) dev lo table TABLE`: every
// destination is local in that table, which is what TPROXY'd packets are
// routed by. `lo_ifindex` is lo's index (1 in a fresh namespace).
nlmsghdr* build_local_default_route(char* buf, std::uint32_t seq, route_op op, int family, std::uint32_t table,
                                    int lo_ifindex);

// `ip rule {add|del} fwmark FWMARK/FWMASK lookup TABLE priority PRIORITY`
// for `family` (AF_INET or AF_INET6). Adding an identical rule twice fails
// with EEXIST; deleting a missing one with ENOENT.
struct fwmark_rule {
  std::uint32_t fwmark = 0;
  std::uint32_t fwmask = 0xffffffff;
  std::uint32_t table = 0;
  std::uint32_t priority = 0;
};
nlmsghdr* build_fwmark_rule(char* buf, std::uint32_t seq, route_op op, int family, const fwmark_rule& rule);

}  // namespace netpen::backends::rootful
