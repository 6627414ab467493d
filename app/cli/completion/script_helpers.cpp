// Helpers shared by the completion and man page generators.
#include "app/cli/completion/script_text.hpp"

namespace netpen::app::cli::completion::detail {

std::string join(const std::vector<std::string>& words, std::string_view sep) {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out += sep;
    out += w;
  }
  return out;
}

std::vector<std::string> spellings_of(const cli_model& model, value_kind k) {
  std::vector<std::string> out;
  for (const auto& o : model.options)
    if (o.value == k)
      for (auto& s : o.spellings()) out.push_back(std::move(s));
  return out;
}

std::vector<std::string> value_option_spellings(const cli_model& model) {
  std::vector<std::string> out;
  for (const auto& o : model.options)
    if (o.value != value_kind::none)
      for (auto& s : o.spellings()) out.push_back(std::move(s));
  return out;
}

std::vector<std::string> subcommand_names(const cli_model& model) {
  std::vector<std::string> out;
  for (const auto& s : model.subcommands) out.emplace_back(s.name);
  return out;
}

std::vector<std::string> to_strings(std::span<const std::string_view> words) {
  return {words.begin(), words.end()};
}

}  // namespace netpen::app::cli::completion::detail
