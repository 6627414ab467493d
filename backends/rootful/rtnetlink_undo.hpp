// The rtnetlink half of undoing host changes: delete a link by name, delete
// a policy-routing rule, flush a private routing table. Something already
// gone is success. Sockets, dumps and the route listing are the shared ones
// (backends/common/rtnetlink, rtnetlink_queries); the two builders here are
// separate so the messages can be checked in unit tests.
#pragma once
#include <cstdint>
#include <string_view>

#include "backends/rootful/host_change.hpp"
#include "net/common/error.hpp"

struct nlmsghdr;

namespace netpen::backends::rootful {

struct route_entry;

// Builders: one request into buf (at least MNL_SOCKET_BUFFER_SIZE bytes).
nlmsghdr* build_rule_delete(char* buf, std::uint32_t seq, const ip_rule& rule);
// RTM_DELROUTE naming one listed route: family, table, destination, tos,
// type and metric (no next hops, so a multipath route goes whole).
nlmsghdr* build_route_delete(char* buf, std::uint32_t seq, const route_entry& route);

// RTM_DELLINK by name (deleting a veth's host end removes the pair);
// ENODEV is success.
result<void> delete_link(std::string_view name);
// RTM_DELRULE matching family, fwmark/mask, table and priority; ENOENT is
// success.
result<void> delete_rule(const ip_rule& rule);
// Lists the family's routes and deletes each one in the table (cached
// clones are not routes anyone added); a route that vanished meanwhile
// (ESRCH) is success.
result<void> flush_route_table(const route_table& table);

}  // namespace netpen::backends::rootful
