// A run's Unix-socket guard (backends/common/unix_guard_supervisor.hpp):
// started once the sandbox launched, its refusals published as `denied`
// events (protocol "unix", destination the path; docs/flow-log.md), stopped
// after the tree ended. Nothing when the run has no guard.
#pragma once
#include <memory>

#include "app/run_config.hpp"
#include "backends/sandbox.hpp"
#include "net/common/error.hpp"
#include "net/relay/data_path.hpp"

namespace netpen::app {

// The event for one refusal (pure).
events::event unix_refusal_event(const backends::unix_refusal& r);

// Takes the sandbox's guard fds and starts the supervisor; null without a guard.
result<std::unique_ptr<backends::unix_guard_supervisor>> start_unix_guard(const run_config& cfg,
                                                                          backends::sandbox& sandbox,
                                                                          relay::data_path& relay);

}  // namespace netpen::app
