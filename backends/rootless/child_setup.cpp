// The sandbox child's setup sequence (see child_setup.hpp).
#include "backends/rootless/child_setup.hpp"

#include "backends/rootless/mount_overlays.hpp"
#include "backends/rootless/netlink_link_config.hpp"
#include "net/common/log.hpp"

namespace netpen::backends::rootless {

result<tap_device> set_up_sandbox(const sandbox_spec& spec) {
  if (auto r = make_mounts_private(); !r) return unexpected(r.error());
  if (auto r = mount_fresh_proc(); !r) return unexpected(r.error());
  auto tap = create_tap();
  mount_fresh_sysfs();  // after the tap exists; shows lo and tap0 only
  if (!tap) return unexpected(tap.error());
  allow_unprivileged_ping();
  if (auto r = configure_sandbox_links(tap->ifindex, {spec.ipv4_route, spec.ipv6_route}); !r)
    return unexpected(r.error());
  if (auto r = apply_file_overlays(spec.resolv_conf, spec.hosts); !r) return unexpected(r.error());
  log::debug("sandbox child: setup complete (tap ifindex {})", tap->ifindex);
  return tap;
}

}  // namespace netpen::backends::rootless
