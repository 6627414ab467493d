// Runs one command in a sandbox: builds the tree's resolv.conf and hosts
// view, sets up the backend, starts the relay engine, lets the command run,
// waits for it, tears everything down, and returns its exit status.
#pragma once
#include "app/run_config.hpp"

namespace netpen::app {

// Exit status of the command (128+N for signal N), or 1 for a netpen
// failure at run time (after printing `netpen: error: ...`).
int run_command(const run_config& cfg);

}  // namespace netpen::app
