// The network of one rootful run, host side and tree side. Theory of
// operation (each host step is pushed on the guard stack, recorded under
// /run/netpen/<id> before it is made, and undone in reverse):
//  1. plan: the host's facts are read (host_facts.hpp), and the plan is
//     made from them alone (network_plan.hpp): a run id, a veth pair's names, a free /30 in
//     10.249.0.0/16 and a ULA /64 (run_addresses), the host table, the
//     tree's table, the routing tables and marks.
//  2. host: the veth pair, its tree end created straight in the tree's
//     netns; the host end gets the gateway addresses and forwarding (the
//     uplinks' facts read now, the sysctls and drop rules planned by
//     uplink_forwarding.hpp); the nftables table `inet netpen_<id>` (DNS to
//     the forwarder, masquerade, forward/input filters; with -o at egress
//     the capture's NFLOG chains) in one transaction.
//     Proxy mode adds, per family, a routing table of its own whose only
//     route makes every address local, and an fwmark rule that sends the
//     TPROXY'd packets (marked by the host table) to it: that is how they
//     reach the engine's transparent listener on the gateway. --iface
//     likewise: its own table with a default route through the interface,
//     a mark on what the tree sends (but to the gateway), and a forward
//     rule that drops the tree's packets bound for any other interface.
//  3. tree (a thread that setns()es into the tree's netns): lo up, the peer
//     renamed eth0 with the child addresses and default routes; conntrack
//     accounting on and a short TIME_WAIT (so a closed flow's end is known
//     within a second); unprivileged ping; the tree's table `inet netpen`
//     (new flows to NFQUEUE 0, the deny mark rejected); the queue and
//     conntrack-event sockets, which stay bound to that netns.
// The tree's netns itself needs no undo: it dies with the tree, taking the
// tree's table and the veth pair with it.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backends/common/rtnetlink.hpp"
#include "backends/rootful/guard_stack.hpp"
#include "backends/rootful/host_undo.hpp"
#include "backends/rootful/network_plan.hpp"
#include "backends/rootful/run_state.hpp"
#include "net/relay/kernel_gate.hpp"

namespace netpen::backends::rootful {

// Reads the host's facts (nothing is changed) and plans a run from them
// (network_plan.hpp).
result<network_plan> plan_network(const network_options& opts);

class rootful_network {
 public:
  // Sets the network up for the tree whose netns is `netns_fd`. On failure
  // everything done so far is undone.
  static result<std::unique_ptr<rootful_network>> create(const network_plan& plan, const network_options& opts,
                                                         int netns_fd);
  ~rootful_network();  // undoes every host change, in reverse

  // The engine's side: the queue and conntrack sockets, the gateways (once).
  relay::kernel_path take_kernel_path();
  const network_plan& plan() const { return plan_; }

 private:
  rootful_network(network_plan plan, run_state state);
  result<void> set_up_host(int netns_fd);
  // Reads the uplinks' facts, sets the planned sysctls (each pushed before
  // it is written) and adds the drop rules to the host script.
  result<void> set_up_forwarding(rtnetlink& nl);
  result<void> set_up_proxy_routing();
  result<void> set_up_iface_routing();
  // Pushes and adds one family's route of `t` and its fwmark rule.
  template <class Route>
  result<void> add_marked_table(const network_plan::marked_table& t, int af, Route route);
  result<void> set_up_tree(int netns_fd, const network_options& opts);

  network_plan plan_;
  run_state state_;
  std::unique_ptr<host_undo> undo_;
  guard_stack guard_;
  std::optional<relay::kernel_path> kernel_;
};

}  // namespace netpen::backends::rootful
