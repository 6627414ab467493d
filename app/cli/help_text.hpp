// The text of `netpen --help`: usage lines, option groups (from the CLI11
// definitions), environment and exit statuses.
#pragma once
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

namespace netpen::app::cli {

// A CLI11 formatter printing netpen's usage lines (all subcommands).
std::shared_ptr<CLI::Formatter> make_help_formatter();
// Environment and exit status sections, printed after the options.
std::string help_footer();
// The complete help text.
std::string help_text();

}  // namespace netpen::app::cli
