// The probes of netpen doctor: what the host has, gathered into the facts of
// check.hpp. They try things for real where that is cheap and harmless (a
// forked child makes a user namespace and a tap device inside it, a ping
// socket is opened, libnftables dry-runs a table), and change nothing.
#pragma once
#include <optional>

#include "app/doctor/check.hpp"

namespace netpen::app::doctor {

// Forks a child that tries the rootless backend's first steps (bounded: the
// child is killed after 5 s).
namespace_probe probe_namespaces();

userns_facts probe_userns(const namespace_probe& probe);
tun_facts probe_tun(const namespace_probe& probe);
id_map_facts probe_id_maps(const namespace_probe& probe);
ping_facts probe_ping();
// Whether netpen runs in a chroot (nullopt: cannot tell).
std::optional<bool> probe_chroot();
kernel_facts probe_kernel();
// As root, with dry runs through libnftables; otherwise what can be seen.
rootful_facts probe_rootful();

}  // namespace netpen::app::doctor
