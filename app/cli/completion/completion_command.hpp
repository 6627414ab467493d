// `netpen completion bash|zsh|fish` prints a completion script; the hidden
// forms the scripts call: `netpen completion --list profiles [--config FILE]`
// (the profile names of the config file, one a line) and `netpen completion
// --list sandboxes` (the caller's persistent sandboxes, as `netpen list`
// finds them); `netpen completion --man` prints netpen(1) (the build
// generates the installed page with it). The lists never print errors.
#pragma once
#include "app/run_config.hpp"

namespace netpen::app::cli::completion {

int run_completion(const completion_command& cmd);

}  // namespace netpen::app::cli::completion
