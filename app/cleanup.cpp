// run_cleanup: the `netpen cleanup` subcommand (see cleanup.hpp).
#include "app/cleanup.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "backends/rootful/cleanup.hpp"
#include "backends/rootful/host_undo.hpp"
#include "backends/rootful/run_state.hpp"
#include "net/common/log.hpp"

namespace netpen::app {

int run_cleanup(const cleanup_command& cmd) {
  namespace rootful = backends::rootful;
  if (::geteuid() != 0) {
    log::error("cleanup needs root: it undoes host changes (veth pairs, nftables tables, sysctls) left by "
               "`netpen --root` runs; run it with sudo");
    return 2;
  }
  auto undo = rootful::make_host_undo();
  const auto report = rootful::cleanup_leftovers(std::filesystem::path(rootful::default_state_root), *undo,
                                                 cmd.dry_run, stdout);
  return report.ok() ? 0 : 1;
}

}  // namespace netpen::app
