// The sandbox child's setup sequence (see child_setup.hpp).
#include "backends/rootless/child_setup.hpp"

#include <unistd.h>

#include "backends/rootless/mount_overlays.hpp"
#include "backends/rootless/netlink_link_config.hpp"
#include "backends/rootless/netns_sysctls.hpp"
#include "net/common/log.hpp"

namespace netpen::backends::rootless {

result<tap_device> set_up_sandbox(const sandbox_spec& spec) {
  // Rootless as root without --map-root: the tree is uid 0, the host's root,
  // without capabilities; the kernel's settings are still root's to write
  // through /proc/sys and /sys, so both are read-only for it.
  const bool host_root_tree = spec.least_privilege && ::geteuid() == 0;
  if (auto r = make_mounts_private(); !r) return unexpected(r.error());
  if (auto r = mount_fresh_proc(); !r) return unexpected(r.error());
  auto tap = create_tap();
  mount_fresh_sysfs(host_root_tree);  // after the tap exists; shows lo and tap0 only
  if (!tap) return unexpected(tap.error());
  open_unprivileged_sysctls();
  if (auto r = configure_sandbox_links(tap->ifindex, {spec.ipv4_route, spec.ipv6_route}); !r)
    return unexpected(r.error());
  if (auto r = apply_file_overlays(spec.resolv_conf, spec.hosts, spec.least_privilege); !r)
    return unexpected(r.error());
  if (host_root_tree) {
    if (auto r = make_proc_sys_read_only(); !r) return unexpected(r.error());
  }
  if (spec.least_privilege) make_mounts_nosuid();
  log::debug("sandbox child: setup complete (tap ifindex {})", tap->ifindex);
  return tap;
}

}  // namespace netpen::backends::rootless
