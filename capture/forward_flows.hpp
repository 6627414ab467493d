// Which of the tree's flows a packet of the rootful egress point
// (rootful_egress_point) belongs to, for its process comment. The host's
// conntrack entries whose original source is one of the tree's addresses are
// kept from NEW to DESTROY, each named by its host side after NAT the way
// wire_socket_of names a packet (protocol, the host's port or ICMP echo id,
// the remote address and port). Pure: no I/O, one thread.
#pragma once
#include <cstddef>
#include <optional>
#include <unordered_map>
#include <vector>

#include "net/netfilter/conntrack_codec.hpp"
#include "net/relay/egress_observer.hpp"
#include "net/relay/flow_key.hpp"

namespace netpen::capture {

// A conntrack entry's host side after NAT: local = the reply tuple's
// destination, remote = its source (ICMP echo: the reply's identifier as
// local_port, remote_port 0); `child` = the original tuple as a flow_key.
// nullopt for protocols other than TCP, UDP, ICMP and ICMPv6.
std::optional<relay::host_conn> host_side_of(const netfilter::conntrack_entry& e);

class forward_flows {
 public:
  // The tree's addresses (before any entry is given).
  void set_tree(std::vector<packet::ip_address> addresses) { tree_ = std::move(addresses); }
  // A conntrack event of the host: `created` of a tree's flow adds it,
  // `destroyed` removes it; anything else is ignored.
  void on_conntrack(const netfilter::conntrack_entry& e);
  // The tree's flow whose host side `c` is (same_socket), if known.
  std::optional<relay::flow_key> child_of(const relay::host_conn& c) const;
  std::size_t size() const { return flows_.size(); }

 private:
  bool from_tree(const packet::ip_address& a) const;
  std::vector<packet::ip_address> tree_;
  std::unordered_map<relay::host_conn, relay::flow_key, relay::host_conn_hash, relay::host_conn_same> flows_;
};

}  // namespace netpen::capture
