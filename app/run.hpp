// Runs one command in a sandbox: builds the tree's resolv.conf and hosts
// view, sets up the backend, starts the relay engine, lets the command run,
// waits for it, tears everything down, and returns its exit status.
#pragma once
#include <sys/types.h>

#include <string>

#include "app/run_config.hpp"
#include "net/common/error.hpp"

namespace netpen::backends { class sandbox; }
namespace netpen::policy { class approver; }

namespace netpen::app {

// Exit status of the command (128+N for signal N), or 1 for a netpen
// failure at run time (after printing `netpen: error: ...`).
int run_command(const run_config& cfg);

// A persistent sandbox's daemon (app/sandboxes/daemon): the run without a
// command. The sandbox, relay, policy, log and capture are set up exactly as
// for a run; once launched, the init serves spawn requests and the hooks
// take over until the sandbox is destroyed; then everything is torn down as
// after a run (the log's end, the summary, every host change undone).
struct persistent_hooks {
  struct ready_info {
    pid_t init_pid = 0;
    std::string backend;      // "rootless" or "rootful"
    std::string policy;       // the policy in one line
    std::string rootful_run;  // --root: the run's id under /run/netpen
  };
  virtual ~persistent_hooks() = default;
  // The sandbox is up and serving: publish it. An error tears it down.
  virtual result<void> ready(backends::sandbox& sandbox, const ready_info& info) = 0;
  // Serves until the sandbox should end; returns once its init was told to stop.
  virtual void serve(backends::sandbox& sandbox) = 0;
  // --interactive: who asks (the run's own terminal approver is not used).
  virtual policy::approver* approver() { return nullptr; }
  bool map_host_ids = false;  // rootless as root with --exec-group (sandbox_spec::map_host_ids)
};

// 0 after the sandbox was destroyed, 1 (or 2) when it could not be set up
// (after printing `netpen: error: ...`).
int run_persistent(const run_config& cfg, persistent_hooks& hooks);

}  // namespace netpen::app
