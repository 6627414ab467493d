// Mount-namespace work inside the sandbox: mounts made private (nothing
// propagates back to the host), a fresh /proc for the new pid namespace, and
// the file overlays: resolv.conf (always) and hosts (when given) bound over
// the real files, following /etc/resolv.conf symlinks (systemd-resolved's
// stub-resolv.conf), with /run/systemd/resolve hidden under an empty tmpfs so
// nss-resolve cannot bypass the forced DNS. Overlay contents live on tmpfs
// mounts of the sandbox's own mount namespace: nothing is written to the
// host's filesystem, so nothing can be left behind. With read_only (the
// least-privileged default) the overlay mounts are read-only: the tree may
// own their files but cannot change them, and cannot unmount them (no
// capabilities; locked in any mount namespace it makes). make_mounts_nosuid
// marks every mount of the sandbox nosuid, so set-user-ID and
// file-capability programs run as plain programs (privilege_drop.hpp: they
// would gain nothing anyway, but one whose file capabilities are marked
// effective, like ping on some distributions, would fail to start).
#pragma once
#include <optional>
#include <string>

#include "net/common/error.hpp"

namespace netpen::backends::rootless {

result<void> make_mounts_private();
result<void> mount_fresh_proc();
// A sysfs of the sandbox's own network namespace on /sys (best effort).
void mount_fresh_sysfs(bool read_only);
// /proc/sys bound read-only over itself. For a tree whose uid 0 is the
// host's root: sysctl files are the global root's to write whatever the
// capabilities (the sandbox's network ones, and the host's kernel ones).
result<void> make_proc_sys_read_only();
result<void> apply_file_overlays(const std::string& resolv_conf, const std::optional<std::string>& hosts,
                                 bool read_only);
// Every mount nosuid (mount_setattr, AT_RECURSIVE; best effort: Linux 5.12+).
void make_mounts_nosuid();

// Follows symlinks of `path` (relative ones against their directory) up to
// a bound; the result may name a file that does not exist.
std::string resolve_symlinks(const std::string& path);

}  // namespace netpen::backends::rootless
