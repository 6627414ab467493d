// The command line as data (see cli_model.hpp): options walked from the
// parser's CLI11 app, subcommands from one table.
#include "app/cli/completion/cli_model.hpp"

#include <algorithm>

#include "app/cli/options.hpp"

namespace netpen::app::cli::completion {
namespace {

constexpr std::string_view cleanup_flags[] = {"--dry-run"};
constexpr std::string_view doctor_flags[] = {"--root"};
constexpr std::string_view create_flags[] = {"--exec-group"};

constexpr subcommand_info subcommands[] = {
    {"doctor", "[--root]", "check what the backends need on this host, with the fix for what is missing",
     argument_kind::none, text_json_formats, doctor_flags, false, false},
    {"cleanup", "[--dry-run]", "remove what dead runs and sandboxes left behind", argument_kind::none, {},
     cleanup_flags, false, false},
    {"completion", "bash|zsh|fish", "print the completion script for a shell", argument_kind::shell, {}, {}, false,
     false},
    {"create", "NAME [OPTIONS] [--exec-group GROUP]", "set up a persistent sandbox NAME with the run options",
     argument_kind::sandbox_new, {}, create_flags, true, false},
    {"exec", "NAME [--] COMMAND [ARGS...]", "run a command in the persistent sandbox NAME", argument_kind::sandbox,
     {}, {}, false, true},
    {"destroy", "NAME", "end the persistent sandbox NAME", argument_kind::sandbox, {}, {}, false, false},
    {"list", "", "show the live and dead persistent sandboxes", argument_kind::none,
     text_json_formats, {}, false, false},
    {"report", "FLOW_LOG", "print the summary of a saved flow log",
     argument_kind::flow_log, report_formats, {}, false, false},
};

bool is_choice_word(std::string_view w) {
  return !w.empty() && std::ranges::all_of(w, [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

value_kind kind_of(const CLI::Option& opt, const std::vector<std::string>& choices) {
  if (!takes_value(opt)) return value_kind::none;
  const auto& longs = opt.get_lnames();
  if (std::ranges::find(longs, "profile") != longs.end()) return value_kind::profile;
  if (!choices.empty()) return value_kind::choice;
  const std::string type = opt.get_type_name();
  if (type == "PATH" || type == "FILE") return value_kind::file;
  return value_kind::word;
}

}  // namespace

std::vector<std::string> option_info::spellings() const {
  std::vector<std::string> out;
  for (const auto& l : longs) out.push_back("--" + l);
  for (const auto& s : shorts) out.push_back("-" + s);
  return out;
}

std::span<const subcommand_info> subcommand_table() { return subcommands; }

std::string usage_line(const subcommand_info& s) {
  std::string out(s.usage);
  if (s.formats.empty()) return out;
  out += out.empty() ? "[--format " : " [--format ";
  for (std::size_t i = 0; i < s.formats.size(); ++i) out += (i == 0 ? "" : "|") + std::string(s.formats[i]);
  return out + "]";
}

std::vector<std::string> choices_of(std::string_view type_name) {
  if (type_name.find('|') == std::string_view::npos) return {};
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= type_name.size()) {
    auto end = type_name.find('|', pos);
    if (end == std::string_view::npos) end = type_name.size();
    const auto word = type_name.substr(pos, end - pos);
    if (!is_choice_word(word)) return {};
    out.emplace_back(word);
    pos = end + 1;
  }
  return out;
}

cli_model make_cli_model() {
  raw_options raw;
  auto app = make_options_app(raw);
  cli_model model;
  model.subcommands = subcommand_table();
  for (const CLI::Option* opt : app->get_options()) {
    option_info info;
    info.longs = opt->get_lnames();
    info.shorts = opt->get_snames();
    if (takes_value(*opt)) info.type_name = opt->get_type_name();
    info.description = opt->get_description();
    info.group = opt->get_group();
    info.choices = choices_of(info.type_name);
    info.value = kind_of(*opt, info.choices);
    info.repeatable = repeatable(*opt);
    model.options.push_back(std::move(info));
  }
  return model;
}

}  // namespace netpen::app::cli::completion
