// A rootful run's forwarding sysctls and drop rules (see uplink_forwarding.hpp).
#include "backends/rootful/uplink_forwarding.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace netpen::backends::rootful {
namespace {

// The default routes' interfaces plus --iface (its replies must be forwarded too).
uplink_facts with_iface(uplink_facts uplinks, const network_plan& plan) {
  if (const auto& iface = plan.host_table.iface) {
    if (std::ranges::find(uplinks.v4, *iface) == uplinks.v4.end()) uplinks.v4.push_back(*iface);
    if (std::ranges::find(uplinks.v6, *iface) == uplinks.v6.end()) uplinks.v6.push_back(*iface);
  }
  return uplinks;
}

bool per_interface_ipv6(const uplink_facts& uplinks, const network_plan& plan) {
  return plan.ipv6 && uplinks.ipv6_per_interface;
}

class forwarding_planner {
 public:
  forwarding_planner(const sysctl_readings& readings, const network_plan& plan)
      : readings_(readings), table_(plan.host_table.table), own_conf_(fmt::format("/{}/", plan.addresses.veth)) {}

  void turn_on(const std::string& path) {
    // The veth's own settings die with it.
    out_.sysctls.push_back({path, "1", path.find(own_conf_) == std::string::npos});
  }

  // One uplink's forwarding: on if it is off, and guarded by a drop rule
  // unless the host had it on by its own policy.
  result<void> forward_on(const std::string& uplink, const std::string& path, const char* nfproto) {
    const auto reading = readings_.find(path);
    if (reading == readings_.end()) return fail("sysctl", fmt::format("cannot read /proc/sys/{}", path));
    const auto& [value, held_by_a_run] = reading->second;
    if (value == "1" && !held_by_a_run) return {};
    if (value != "1") turn_on(path);
    out_.host_rules += fmt::format(
        "add rule inet {} forward iifname \"{}\" oifname != \"np*\" meta nfproto {} counter drop\n", table_, uplink,
        nfproto);
    return {};
  }

  forwarding_plan take() { return std::move(out_); }

 private:
  const sysctl_readings& readings_;
  std::string table_;
  std::string own_conf_;
  forwarding_plan out_;
};

}  // namespace

std::string ipv4_forwarding_sysctl(std::string_view ifname) { return fmt::format("net/ipv4/conf/{}/forwarding", ifname); }

std::string ipv6_forwarding_sysctl(std::string_view ifname) {
  return fmt::format("net/ipv6/conf/{}/force_forwarding", ifname);
}

std::vector<std::string> uplink_sysctl_paths(const uplink_facts& uplinks, const network_plan& plan) {
  const auto all = with_iface(uplinks, plan);
  std::vector<std::string> paths;
  for (const auto& up : all.v4) paths.push_back(ipv4_forwarding_sysctl(up));
  if (per_interface_ipv6(uplinks, plan))
    for (const auto& up : all.v6) paths.push_back(ipv6_forwarding_sysctl(up));
  return paths;
}

result<forwarding_plan> plan_forwarding(const uplink_facts& uplinks, const sysctl_readings& readings,
                                        const network_plan& plan) {
  const auto& veth = plan.addresses.veth;
  const auto all = with_iface(uplinks, plan);
  forwarding_planner planner(readings, plan);
  planner.turn_on(ipv4_forwarding_sysctl(veth));
  for (const auto& up : all.v4)
    if (auto r = planner.forward_on(up, ipv4_forwarding_sysctl(up), "ipv4"); !r) return unexpected(r.error());
  if (per_interface_ipv6(uplinks, plan)) {
    planner.turn_on(ipv6_forwarding_sysctl(veth));
    for (const auto& up : all.v6)
      if (auto r = planner.forward_on(up, ipv6_forwarding_sysctl(up), "ipv6"); !r) return unexpected(r.error());
  } else if (plan.ipv6) {
    planner.turn_on("net/ipv6/conf/all/forwarding");  // kernels before 6.17: global only
  }
  return planner.take();
}

}  // namespace netpen::backends::rootful
