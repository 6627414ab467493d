// run_cleanup: the `netpen cleanup` subcommand (see cleanup.hpp).
#include "app/cleanup.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include <fmt/format.h>

#include "app/sandboxes/commands.hpp"
#include "backends/rootful/cleanup.hpp"
#include "backends/rootful/host_undo.hpp"
#include "backends/rootful/run_state.hpp"
#include "net/common/log.hpp"

namespace netpen::app {

int run_cleanup(const cleanup_command& cmd) {
  namespace rootful = backends::rootful;
  // The caller's dead persistent sandboxes (app/sandboxes): their directories.
  auto sandboxes = sandboxes::cleanup_dead(cmd.dry_run, stdout);
  if (::geteuid() == 0) {  // and every other user's, each as that user
    const auto others = sandboxes::cleanup_others_dead(cmd.dry_run, stdout);
    sandboxes.found += others.found;
    sandboxes.ok = sandboxes.ok && others.ok;
  }
  // Host changes exist only for root's --root runs (a rootless run's
  // namespaces, and everything in them, end with its processes).
  const std::filesystem::path state_root(rootful::default_state_root);
  if (::geteuid() != 0 || rootful::list_runs(state_root).empty()) {
    if (sandboxes.found == 0)
      fmt::print("nothing to clean up{}\n", ::geteuid() != 0 ? " (no dead sandboxes of this user)" : "");
    std::fflush(stdout);
    return sandboxes.ok ? 0 : 1;
  }
  auto undo = rootful::make_host_undo();
  const auto report = rootful::cleanup_leftovers(state_root, *undo, cmd.dry_run, stdout);
  return report.ok() && sandboxes.ok ? 0 : 1;
}

}  // namespace netpen::app
