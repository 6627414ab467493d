// Internal: `[OPTIONS] [--] COMMAND...` scanning and parsing, shared by the
// top level and by `create NAME [OPTIONS]`.
#pragma once
#include <span>
#include <string>

#include "app/run_config.hpp"
#include "net/common/error.hpp"

namespace netpen::app::cli {

enum class command_mode {
  required,  // netpen [OPTIONS] -- COMMAND: the first non-option word starts the command
  none,      // create NAME [OPTIONS]: no words allowed; `context` names the subcommand
};

// Returns a run_config, or a help/version command when -h/-V was given.
result<command_line> parse_run(std::span<const std::string> args, command_mode mode, std::string_view context);

// Subcommands (doctor, cleanup, completion, create, exec, destroy, list,
// report); args[0] is the subcommand name.
bool is_subcommand(std::string_view word);
result<command_line> parse_subcommand(std::span<const std::string> args);

// "unknown option '--frob'", plus "; did you mean '--from'?" when close.
std::string unknown_option_message(std::string_view typed);

}  // namespace netpen::app::cli
