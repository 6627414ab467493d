// The sandbox child's setup sequence (phase 1), run as pid 1 of the new pid
// namespace with full capabilities in its new user namespace once the parent
// has written the id maps: private mounts, fresh /proc, tap0 opened in the
// new network namespace, links configured over rtnetlink, the namespace's
// unprivileged-use sysctls, file overlays (read-only, and every mount
// nosuid, for a least-privileged tree).
// Returns the tap for the parent, or the first failing step as an error.
#pragma once
#include "backends/rootless/tap_device.hpp"
#include "backends/sandbox.hpp"

namespace netpen::backends::rootless {

result<tap_device> set_up_sandbox(const sandbox_spec& spec);

}  // namespace netpen::backends::rootless
