// `netpen cleanup [--dry-run]`: removes the caller's persistent sandboxes
// whose daemon is gone (app/sandboxes; as root, every user's under
// /run/user/UID too, each as that user), and, as root, undoes what rootful
// runs that died without unwinding (SIGKILL, crash) left on the host, from
// their records under /run/netpen; live runs are never touched.
#pragma once
#include "app/run_config.hpp"

namespace netpen::app {

// Without root only the caller's dead sandboxes are removed; "nothing to clean
// up" when there was nothing. Status 0 when nothing was left behind
// because of an error, 1 when a change could not be undone or a record
// could not be read (both are kept for another try).
int run_cleanup(const cleanup_command& cmd);

}  // namespace netpen::app
