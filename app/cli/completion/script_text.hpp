// The generated texts (completion scripts for bash, zsh and fish, the
// netpen(1) man page), each a pure function of the command-line model.
#pragma once
#include <string>

#include "app/cli/completion/cli_model.hpp"

namespace netpen::app::cli::completion {

std::string bash_script(const cli_model& model);
std::string zsh_script(const cli_model& model);
std::string fish_script(const cli_model& model);
std::string man_page(const cli_model& model, std::string_view version);

// Helpers shared by the generators.
namespace detail {
// Words joined by `sep`.
std::string join(const std::vector<std::string>& words, std::string_view sep);
// Every spelling of the options whose value is of kind `k` (value options
// when k is word: every option that takes a value).
std::vector<std::string> spellings_of(const cli_model& model, value_kind k);
std::vector<std::string> value_option_spellings(const cli_model& model);
// Names of the subcommands.
std::vector<std::string> subcommand_names(const cli_model& model);
std::vector<std::string> to_strings(std::span<const std::string_view> words);
}  // namespace detail

}  // namespace netpen::app::cli::completion
