// The text of `netpen SUBCOMMAND --help`: each subcommand's usage, what it
// does, its own options and exit statuses (the run options are --help's).
#pragma once
#include <string>
#include <string_view>

namespace netpen::app::cli {

// The help of one subcommand of cli.md; empty for an unknown word.
std::string subcommand_help(std::string_view subcommand);

}  // namespace netpen::app::cli
