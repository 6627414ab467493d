// Rootless preflight: checks that this host can build the sandbox (namespaces
// present, user namespaces allowed, /dev/net/tun usable) before anything is
// created, and turns each missing piece into an error code plus a one-line
// fix. Facts are gathered separately from their evaluation so the messages
// are testable.
#pragma once
#include <sys/types.h>

#include <optional>

#include "net/common/error.hpp"

namespace netpen::backends::rootless {

struct host_facts {
  bool ns_user = true, ns_net = true, ns_mnt = true, ns_pid = true;
  std::optional<long> max_user_namespaces;        // user.max_user_namespaces
  std::optional<long> unprivileged_userns_clone;  // Debian kernel.unprivileged_userns_clone
  std::optional<long> apparmor_restrict_userns;   // Ubuntu kernel.apparmor_restrict_unprivileged_userns
  bool tun_exists = true;
  int tun_open_errno = 0;  // errno of open("/dev/net/tun", O_RDWR), 0 when it opened
  uid_t uid = 0;           // the invoking user
};

host_facts gather_host_facts();

// The first blocking problem, as an actionable error; success otherwise.
result<void> evaluate_preflight(const host_facts& facts);

inline result<void> preflight() { return evaluate_preflight(gather_host_facts()); }

}  // namespace netpen::backends::rootless
