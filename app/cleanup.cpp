// run_cleanup: the `netpen cleanup` subcommand (see cleanup.hpp).
#include "app/cleanup.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "app/sandboxes/commands.hpp"
#include "backends/rootful/cleanup.hpp"
#include "backends/rootful/host_undo.hpp"
#include "backends/rootful/run_state.hpp"
#include "net/common/log.hpp"

namespace netpen::app {

int run_cleanup(const cleanup_command& cmd) {
  namespace rootful = backends::rootful;
  // The caller's dead persistent sandboxes (app/sandboxes): their directories.
  const bool sandboxes_ok = sandboxes::cleanup_dead(cmd.dry_run, stdout);
  if (::geteuid() != 0) return sandboxes_ok ? 0 : 1;  // host changes exist only for root's --root runs
  auto undo = rootful::make_host_undo();
  const auto report = rootful::cleanup_leftovers(std::filesystem::path(rootful::default_state_root), *undo,
                                                 cmd.dry_run, stdout);
  return report.ok() && sandboxes_ok ? 0 : 1;
}

}  // namespace netpen::app
