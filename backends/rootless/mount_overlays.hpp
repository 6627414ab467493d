// Mount-namespace work inside the sandbox: mounts made private (nothing
// propagates back to the host), a fresh /proc for the new pid namespace, and
// the file overlays: resolv.conf (always) and hosts (when given) bound over
// the real files, following /etc/resolv.conf symlinks (systemd-resolved's
// stub-resolv.conf), with /run/systemd/resolve hidden under an empty tmpfs so
// nss-resolve cannot bypass the forced DNS. Overlay contents live on tmpfs
// mounts of the sandbox's own mount namespace: nothing is written to the
// host's filesystem, so nothing can be left behind.
#pragma once
#include <optional>
#include <string>

#include "net/common/error.hpp"

namespace netpen::backends::rootless {

result<void> make_mounts_private();
result<void> mount_fresh_proc();
// A sysfs of the sandbox's own network namespace on /sys (best effort).
void mount_fresh_sysfs();
result<void> apply_file_overlays(const std::string& resolv_conf, const std::optional<std::string>& hosts);

// Follows symlinks of `path` (relative ones against their directory) up to
// a bound; the result may name a file that does not exist.
std::string resolve_symlinks(const std::string& path);

}  // namespace netpen::backends::rootless
