// From raw option values to a validated run_config: value syntax, files,
// conflicts between flags, in that order.
#pragma once
#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/cli/options.hpp"
#include "app/run_config.hpp"
#include "net/common/error.hpp"

namespace netpen::app::cli {

// Canonical long name ("--output") -> the name the user typed ("--capture"),
// so that messages name the flag as written.
using flag_names = std::map<std::string, std::string>;

// `app` is the app `raw` was parsed with (for counts). The command is not
// checked here.
result<run_config> build_run_config(const raw_options& raw, const CLI::App& app, const flag_names& shown);


}  // namespace netpen::app::cli
