// `netpen completion bash`: a bash completion function generated from the
// command-line model. Theory: the script walks the words before the cursor
// the way the parser does (a subcommand only as the first word, options
// with a value skip it, `--` or the first other word starts the command)
// and then completes an option's value (choices, files, profile names via
// the hidden `netpen completion --list profiles`), an option name, a
// subcommand's argument (sandbox names via `--list sandboxes`), or, inside
// the command, whatever bash-completion completes for that command.
#include <fmt/format.h>

#include "app/cli/completion/script_text.hpp"

namespace netpen::app::cli::completion {
namespace {

using detail::join;

std::string quote_words(const std::vector<std::string>& words) { return "'" + join(words, " ") + "'"; }

// The case arms completing an option's value.
std::string value_arms(const cli_model& model) {
  std::string out;
  for (const auto& o : model.options)
    if (o.value == value_kind::choice)
      out += fmt::format("    {}) COMPREPLY=($(compgen -W {} -- \"$2\")) ;;\n", join(o.spellings(), "|"),
                         quote_words(o.choices));
  out += fmt::format("    {}) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- \"$2\")) ;;\n",
                     join(detail::spellings_of(model, value_kind::file), "|"));
  out += fmt::format(
      "    {})\n"
      "      if [[ $2 == */* || $2 == *.toml ]]; then\n"
      "        compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- \"$2\"))\n"
      "      else\n"
      "        COMPREPLY=($(compgen -W \"$(_netpen_list profiles ${{_netpen_config:+--config \"$_netpen_config\"}})\" "
      "-- \"$2\"))\n"
      "      fi ;;\n",
      join(detail::spellings_of(model, value_kind::profile), "|"));
  out += fmt::format("    {}) COMPREPLY=() ;;\n", join(detail::spellings_of(model, value_kind::word), "|"));
  out += "    --exec-group) COMPREPLY=($(compgen -g -- \"$2\")) ;;\n";
  return out;
}

std::string argument_completion(argument_kind a) {
  switch (a) {
    case argument_kind::shell: return fmt::format("COMPREPLY=($(compgen -W {} -- \"$cur\"))", quote_words(detail::to_strings(shells)));
    case argument_kind::sandbox: return "COMPREPLY=($(compgen -W \"$(_netpen_list sandboxes)\" -- \"$cur\"))";
    case argument_kind::flow_log: return "compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- \"$cur\"))";
    case argument_kind::sandbox_new:
    case argument_kind::none: break;
  }
  return "COMPREPLY=()";
}

// One case arm of _netpen's dispatch on the subcommand.
std::string subcommand_arm(const cli_model& model, const subcommand_info& s) {
  std::vector<std::string> flags = detail::to_strings(s.flags);
  if (!s.formats.empty()) flags.insert(flags.begin(), "--format");
  if (s.run_options)
    for (const auto& o : model.options)
      for (auto& sp : o.spellings()) flags.push_back(std::move(sp));
  std::string out = fmt::format("    {})\n", s.name);
  if (!s.formats.empty())
    out += fmt::format("      [[ $prev == --format ]] && {{ COMPREPLY=($(compgen -W {} -- \"$cur\")); return; }}\n",
                       quote_words(detail::to_strings(s.formats)));
  if (s.run_options) out += "      _netpen_value \"$prev\" \"$cur\" && return\n";
  if (!flags.empty())
    out += fmt::format("      [[ $cur == -* ]] && {{ COMPREPLY=($(compgen -W {} -- \"$cur\")); return; }}\n",
                       quote_words(flags));
  if (s.command) out += "      (( named )) && { COMPREPLY=($(compgen -W '--' -- \"$cur\") $(compgen -c -- \"$cur\")); return; }\n";
  out += fmt::format("      (( named )) || {}\n      ;;\n", argument_completion(s.argument));
  return out;
}

}  // namespace

std::string bash_script(const cli_model& model) {
  std::vector<std::string> options;
  for (const auto& o : model.options)
    for (auto& sp : o.spellings()) options.push_back(std::move(sp));
  std::vector<std::string> value_options = detail::value_option_spellings(model);
  value_options.push_back("--format");
  value_options.push_back("--exec-group");
  std::vector<std::string> with_command;
  for (const auto& s : model.subcommands)
    if (s.command) with_command.emplace_back(s.name);
  std::string arms;
  for (const auto& s : model.subcommands) arms += subcommand_arm(model, s);

  return fmt::format(
      R"gen(# bash completion for netpen. Generated from netpen's own option table by
# `netpen completion bash`; do not edit.

_netpen_list() {{
  command "$_netpen_bin" completion --list "$@" 2>/dev/null
}}

# Completes the value of option $1 (the word being typed is $2); fails when
# $1 is not an option that takes a value.
_netpen_value() {{
  case "$1" in
{value_arms}    *) return 1 ;;
  esac
  return 0
}}

_netpen() {{
  local cur=${{COMP_WORDS[COMP_CWORD]}} prev= word sub= start=0 named=0 i=1
  _netpen_bin=${{COMP_WORDS[0]}}
  _netpen_config=
  COMPREPLY=()
  (( COMP_CWORD > 0 )) && prev=${{COMP_WORDS[COMP_CWORD-1]}}
  # bash splits --option=value at the '='.
  if [[ $cur == = ]]; then
    cur=
  elif [[ $prev == = ]] && (( COMP_CWORD > 1 )); then
    prev=${{COMP_WORDS[COMP_CWORD-2]}}
  fi
  if (( COMP_CWORD > 1 )); then
    case " {subcommands} " in *" ${{COMP_WORDS[1]}} "*) sub=${{COMP_WORDS[1]}}; i=2 ;; esac
  fi
  while (( i < COMP_CWORD )); do
    word=${{COMP_WORDS[i]}}
    if [[ $word == -- ]]; then
      [[ -z $sub || " {with_command} " == *" $sub "* ]] && {{ start=$((i + 1)); break; }}
    fi
    case " {value_options} " in
      *" $word "*)
        [[ $word == --config ]] && _netpen_config=${{COMP_WORDS[i+1]}}
        [[ $word == --config && ${{COMP_WORDS[i+1]}} == = ]] && _netpen_config=${{COMP_WORDS[i+2]}}
        if [[ ${{COMP_WORDS[i+1]}} == = ]]; then i=$((i + 3)); else i=$((i + 2)); fi
        continue ;;
    esac
    if [[ $word == =* || $word == -* ]]; then i=$((i + 1)); continue; fi
    if [[ -z $sub ]]; then start=$i; break; fi
    if (( named )) && [[ " {with_command} " == *" $sub "* ]]; then start=$i; break; fi
    named=1
    i=$((i + 1))
  done

  if (( start > 0 )); then  # inside the command: complete it as bash would
    if declare -F _command_offset >/dev/null; then
      _command_offset "$start"
    elif (( COMP_CWORD == start )); then
      COMPREPLY=($(compgen -c -- "$cur"))
    else
      compopt -o default 2>/dev/null
    fi
    return
  fi

  case "$sub" in
    "")
      _netpen_value "$prev" "$cur" && return
      if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W '{options} --' -- "$cur"))
      elif (( COMP_CWORD == 1 )); then
        COMPREPLY=($(compgen -W '{subcommands}' -- "$cur") $(compgen -c -- "$cur"))
      else
        COMPREPLY=($(compgen -c -- "$cur"))
      fi ;;
{arms}  esac
}}

complete -F _netpen netpen
)gen",
      fmt::arg("value_arms", value_arms(model)), fmt::arg("subcommands", join(detail::subcommand_names(model), " ")),
      fmt::arg("with_command", join(with_command, " ")), fmt::arg("value_options", join(value_options, " ")),
      fmt::arg("options", join(options, " ")), fmt::arg("arms", arms));
}

}  // namespace netpen::app::cli::completion
