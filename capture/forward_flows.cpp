// The tree's forwarded flows by their host side (see forward_flows.hpp).
#include "capture/forward_flows.hpp"

#include <sys/socket.h>

#include <algorithm>

#include "net/relay/ct_flow_key.hpp"

namespace netpen::capture {

std::optional<relay::host_conn> host_side_of(const netfilter::conntrack_entry& e) {
  const auto& r = e.reply;
  relay::host_conn c;
  c.protocol = e.original.proto;
  c.child = relay::flow_key_of(e.original);
  const bool v6 = r.family == AF_INET6;
  c.local = {v6, r.dst};
  c.remote = {v6, r.src};
  if (c.protocol == packet::proto_tcp || c.protocol == packet::proto_udp) {
    c.local_port = r.dport;
    c.remote_port = r.sport;
  } else if (c.protocol == packet::proto_icmp || c.protocol == packet::proto_icmpv6) {
    c.local_port = r.icmp_id;
  } else {
    return std::nullopt;
  }
  return c;
}

bool forward_flows::from_tree(const packet::ip_address& a) const { return std::ranges::find(tree_, a) != tree_.end(); }

void forward_flows::on_conntrack(const netfilter::conntrack_entry& e) {
  if (e.event == netfilter::ct_event::updated) return;
  const auto c = host_side_of(e);
  if (!c || !from_tree(c->child.src)) return;
  if (e.event == netfilter::ct_event::created)
    flows_.insert_or_assign(*c, c->child);
  else
    flows_.erase(*c);
}

std::optional<relay::flow_key> forward_flows::child_of(const relay::host_conn& c) const {
  const auto it = flows_.find(c);
  if (it == flows_.end()) return std::nullopt;
  return it->second;
}

}  // namespace netpen::capture
