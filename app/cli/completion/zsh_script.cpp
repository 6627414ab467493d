// `netpen completion zsh`: a zsh completion function (#compdef) generated
// from the command-line model: one _arguments spec per option (its
// description, its value: choices, files, profile names), the subcommands
// with their own arguments, and the command after the options completed
// by _normal.
#include <fmt/format.h>

#include "app/cli/completion/script_text.hpp"

namespace netpen::app::cli::completion {
namespace {

using detail::join;

// Text inside a single-quoted _arguments spec: no quote, no brackets, no colon.
std::string spec_text(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\'') out += "'\\''";
    else if (c == '[') out += '(';
    else if (c == ']') out += ')';
    else if (c == ':') out += "\\:";
    else if (c == '\\') out += "\\\\";
    else out += c;
  }
  return out;
}

std::string value_action(const option_info& o) {
  switch (o.value) {
    case value_kind::choice: return "(" + join(o.choices, " ") + ")";
    case value_kind::file: return "_files";
    case value_kind::profile: return "_netpen_profiles";
    case value_kind::word:
    case value_kind::none: break;
  }
  return " ";
}

// "'(-o --output)'{-o,--output}'[write ...]:PATH:_files'"
std::string option_spec(const option_info& o) {
  const auto names = o.spellings();
  std::string exclusion = o.repeatable ? "'*'" : "'(" + join(names, " ") + ")'";
  std::string spelled = names.size() == 1 ? names.front() : "{" + join(names, ",") + "}";
  std::string desc = "'[" + spec_text(o.description) + "]";
  if (o.value != value_kind::none) desc += ":" + spec_text(o.type_name) + ":" + value_action(o);
  return exclusion + spelled + desc + "'";
}

std::string argument_action(argument_kind a) {
  switch (a) {
    case argument_kind::shell: return "(bash zsh fish)";
    case argument_kind::sandbox: return "_netpen_sandboxes";
    case argument_kind::flow_log: return "_files";
    case argument_kind::sandbox_new:
    case argument_kind::none: break;
  }
  return " ";
}

std::string subcommand_arm(const subcommand_info& s) {
  std::string specs;
  if (!s.formats.empty())
    specs += fmt::format(" '--format[output format]:format:({})'", join(detail::to_strings(s.formats), " "));
  for (auto f : s.flags) {
    if (f == "--exec-group") specs += " '--exec-group[members of GROUP may exec]:group:_groups'";
    else specs += fmt::format(" '{}'", f);
  }
  if (s.run_options) specs += " $_netpen_options";
  if (s.argument != argument_kind::none)
    specs += fmt::format(" '1:{}:{}'", s.argument == argument_kind::flow_log ? "flow log" : "name",
                         argument_action(s.argument));
  if (s.command) specs += " '*::command:_normal'";
  return fmt::format("    ({})\n      shift words; (( CURRENT-- ))\n      _arguments -S{}; return ;;\n", s.name, specs);
}

}  // namespace

std::string zsh_script(const cli_model& model) {
  std::string specs;
  for (const auto& o : model.options) specs += "  " + option_spec(o) + "\n";
  std::string arms;
  for (const auto& s : model.subcommands) arms += subcommand_arm(s);
  return fmt::format(
      R"gen(#compdef netpen
# zsh completion for netpen. Generated from netpen's own option table by
# `netpen completion zsh`; do not edit.

_netpen_profiles() {{
  local -a cfg profiles
  local i=${{words[(I)--config]}}
  (( i > 0 )) && cfg=(--config "${{words[i+1]}}")
  profiles=(${{(f)"$(command $words[1] completion --list profiles $cfg 2>/dev/null)"}})
  _describe -t profiles 'profile' profiles
}}

_netpen_sandboxes() {{
  local -a names
  names=(${{(f)"$(command $words[1] completion --list sandboxes 2>/dev/null)"}})
  _describe -t sandboxes 'sandbox' names
}}

_netpen_first() {{
  local -a subcommands
  subcommands=({subcommands})
  _alternative 'subcommands:subcommand:compadd -a subcommands' 'commands:command:_command_names -e'
}}

_netpen() {{
  local -a _netpen_options
  _netpen_options=(
{specs}  )
  if (( CURRENT > 2 )); then
    case $words[2] in
{arms}    esac
  fi
  _arguments -S $_netpen_options '1:command:_netpen_first' '*::arguments:_normal'
}}

_netpen "$@"
)gen",
      fmt::arg("subcommands", join(detail::subcommand_names(model), " ")), fmt::arg("specs", specs),
      fmt::arg("arms", arms));
}

}  // namespace netpen::app::cli::completion
