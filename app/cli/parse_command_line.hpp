// netpen's command-line parser: the whole cli.md surface, validated into a
// run_config or a subcommand. The caller prints "netpen: error: <message>"
// and exits 2 on an error.
#pragma once
#include <span>
#include <string>

#include "app/run_config.hpp"
#include "net/common/error.hpp"

namespace netpen::app {

// `args` excludes argv[0]. Error codes: "usage" (unknown flag, missing
// value, conflicts, no command), "bad-value" (bad value, unreadable file),
// "not-supported" (a subcommand delivered by a later issue: doctor, completion).
result<command_line> parse_command_line(std::span<const std::string> args);

}  // namespace netpen::app
