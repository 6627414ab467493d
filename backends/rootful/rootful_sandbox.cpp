// The rootful backend's sandbox (see rootful_sandbox.hpp).
#include "backends/rootful/rootful_sandbox.hpp"

#include <fcntl.h>
#include <linux/sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "backends/common/fd_passing.hpp"
#include "backends/common/socket_in_netns.hpp"
#include "backends/rootful/nft_libraries.hpp"
#include "backends/rootless/mount_overlays.hpp"
#include "net/common/log.hpp"

namespace netpen::backends::rootful {
namespace {

error clone_error(int e) {
  return {"clone-failed", fmt::format("creating the sandbox's namespaces failed: {}", std::strerror(e))};
}

// Inside the init, before anything runs: private mounts, a /proc of the new
// pid namespace, the file overlays. The network is set up by the parent.
result<unique_fd> set_up_mounts(const sandbox_spec& spec) {
  if (auto r = rootless::make_mounts_private(); !r) return unexpected(r.error());
  if (auto r = rootless::mount_fresh_proc(); !r) return unexpected(r.error());
  rootless::mount_fresh_sysfs(false);
  if (auto r = rootless::apply_file_overlays(spec.resolv_conf, spec.hosts, false); !r) return unexpected(r.error());
  return unique_fd{};
}

result<void> preflight() {
  if (::geteuid() != 0)
    return fail("rootful-needs-root", "--root needs root: run netpen with sudo (or use the default rootless backend)");
  // Loaded now, so a missing library stops the run before any host change.
  if (auto nft = nftables_library(); !nft) return unexpected(nft.error());
  if (auto nftnl = nftnl_library(); !nftnl) return unexpected(nftnl.error());
  return {};
}

network_options network_options_of(const sandbox_spec& spec, const rootful_options& opts) {
  network_options n;
  n.ipv4_route = spec.ipv4_route;
  n.ipv6_route = spec.ipv6_route;
  n.command = opts.command;
  n.log_group = opts.log_group;
  n.proxy_mode = opts.proxy_mode;
  n.claim_mode = opts.claim_mode;
  n.iface = opts.iface;
  n.host_ports = spec.host_ports;
  n.published = opts.published;
  n.copy_first_bytes = opts.copy_first_bytes;
  return n;
}

}  // namespace

rootful_sandbox::rootful_sandbox(started_init init, unique_fd netns, std::unique_ptr<rootful_network> network)
    : init_driver(std::move(init)), netns_(std::move(netns)), network_(std::move(network)) {}

// The tree first (its netns dies with it once the engine's sockets are
// closed), then the host changes.
rootful_sandbox::~rootful_sandbox() {
  terminate();
  netns_.reset();
  network_.reset();
}

result<network_plan> plan_rootful(const sandbox_spec& spec, const rootful_options& opts) {
  return plan_network(network_options_of(spec, opts));
}

result<std::unique_ptr<rootful_sandbox>> make_rootful_sandbox(const sandbox_spec& spec, const rootful_options& opts) {
  if (spec.argv.empty() && !spec.persistent) return fail("no-command", "no command to run in the sandbox");
  if (auto r = preflight(); !r) return unexpected(r.error());
  const auto nopts = network_options_of(spec, opts);
  auto plan = plan_network(nopts);
  if (!plan) return unexpected(plan.error());

  auto init = start_init(spec, CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWPID, set_up_mounts, clone_error);
  if (!init) return unexpected(init.error());
  const pid_t pid = init->pid;
  unique_fd netns(::open(fmt::format("/proc/{}/ns/net", pid).c_str(), O_RDONLY | O_CLOEXEC));
  if (!netns) {
    abandon(pid);
    return fail("netns", fmt::format("cannot open the tree's network namespace: {}", std::strerror(errno)));
  }
  auto network = rootful_network::create(*plan, nopts, netns.get());
  if (!network) {
    abandon(pid);
    return unexpected(network.error());
  }
  if (auto r = send_message(init->control.get(), msg_maps_ready); !r) {
    abandon(pid);
    return unexpected(r.error());
  }
  log::debug("rootful sandbox: run {} on {} ({} / {})", plan->addresses.id, plan->addresses.veth,
             plan->addresses.child4, plan->addresses.child6);
  return std::make_unique<rootful_sandbox>(std::move(*init), std::move(netns), std::move(*network));
}

int rootful_sandbox::tree_socket(int family, int type) const { return socket_in_netns(netns_.get(), family, type); }

}  // namespace netpen::backends::rootful
