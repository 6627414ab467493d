// The rootful backend (--root): the command tree in new net, mount and pid
// namespaces made as root (no user namespace), joined to the host by a veth
// pair; the kernel forwards and NATs its traffic, netpen judges new flows
// and answers DNS (rootful_network.hpp). The command runs as the invoking
// user (SUDO_UID/SUDO_GID) unless --run-as-root.
//
// Sequence: preflight (root, kernel features) -> plan -> clone the init
// (net+mount+pid namespaces; it makes its mounts private, mounts /proc and
// the resolv.conf/hosts overlays, then waits) -> the network, host side and
// tree side -> "maps" to the init -> wait_ready() ("ok") -> the engine takes
// the kernel path -> launch(). Tear-down: the init killed and reaped, then
// every host change undone in reverse (the guard stack).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "backends/common/init_driver.hpp"
#include "backends/rootful/rootful_network.hpp"

namespace netpen::backends::rootful {

struct rootful_options {
  std::string command;  // for the run's record under /run/netpen
  std::optional<std::uint16_t> log_group;  // -o at egress: the capture's NFLOG group
  bool proxy_mode = false;                 // --proxy: the tree's TCP is TPROXY'd to the engine
  bool claim_mode = false;                 // the policy judges claimed names: the same TPROXY
  std::optional<std::string> iface;        // --iface: direct egress through this host interface
  std::vector<inbound_port> published;     // --publish: ports the tree accepts netpen's connections on
  bool copy_first_bytes = false;           // netpen observes: what the tree's TCP flows claim is shown
};

class rootful_sandbox final : public init_driver {
 public:
  rootful_sandbox(started_init init, unique_fd netns, std::unique_ptr<rootful_network> network);
  ~rootful_sandbox() override;
  // The engine's side of the network (once, after wait_ready()).
  relay::kernel_path take_kernel_path() { return network_->take_kernel_path(); }
  const network_plan& plan() const { return network_->plan(); }
  // A TCP socket inside the tree's network namespace (--publish's loopback
  // fallback), or -1.
  int tree_socket(int family, int type) const;
  int socket_inside(int family, int type) override { return tree_socket(family, type); }

 private:
  unique_fd netns_;
  std::unique_ptr<rootful_network> network_;
};

// Must be called before netpen starts any thread (it clones).
result<std::unique_ptr<rootful_sandbox>> make_rootful_sandbox(const sandbox_spec& spec, const rootful_options& opts);

// The plan a run would use, for --dry-run (reads the host, changes nothing).
result<network_plan> plan_rootful(const sandbox_spec& spec, const rootful_options& opts = {});

}  // namespace netpen::backends::rootful
