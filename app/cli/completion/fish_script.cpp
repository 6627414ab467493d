// `netpen completion fish`: fish `complete` lines generated from the
// command-line model. Helper functions find where the command line is: a
// subcommand (only as the first word) or the run options, and whether the
// command has started (after `--` or the first word that is not an option
// or an option's value), where fish's own command completion takes over.
#include <fmt/format.h>

#include "app/cli/completion/script_text.hpp"

namespace netpen::app::cli::completion {
namespace {

using detail::join;

// A fish single-quoted string.
std::string quoted(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

// "-l output -l capture -s o -s c"
std::string names(const option_info& o) {
  std::string out;
  for (const auto& l : o.longs) out += " -l " + l;
  for (const auto& s : o.shorts) out += (s.size() == 1 ? " -s " : " -o ") + s;
  return out;
}

std::string value_args(const option_info& o) {
  switch (o.value) {
    case value_kind::none: return " -f";
    case value_kind::choice: return " -x -a " + quoted(join(o.choices, " "));
    case value_kind::file: return " -r -F";
    case value_kind::profile: return " -x -a '(__netpen_profiles)'";
    case value_kind::word: return " -x";
  }
  return "";
}

std::string option_lines(const cli_model& model, std::string_view condition) {
  std::string out;
  for (const auto& o : model.options)
    out += fmt::format("complete -c netpen -n {}{}{} -d {}\n", quoted(condition), names(o), value_args(o),
                       quoted(o.description));
  return out;
}

std::string subcommand_lines(const cli_model& model, const subcommand_info& s) {
  const std::string in_sub = fmt::format("__netpen_subcommand {}", s.name);
  std::string out = fmt::format("complete -c netpen -n {} -a {} -d {}\n", quoted("__netpen_first_word"),
                                s.name, quoted(s.description));
  if (!s.formats.empty())
    out += fmt::format("complete -c netpen -n {} -l format -x -a {} -d 'output format'\n", quoted(in_sub),
                       quoted(join(detail::to_strings(s.formats), " ")));
  for (auto f : s.flags)
    out += fmt::format("complete -c netpen -n {} -l {}{}\n", quoted(in_sub), f.substr(2),
                       f == "--exec-group" ? " -x -a '(__fish_complete_groups)'" : " -f");
  const std::string at_argument = in_sub + "; and __netpen_no_argument";
  switch (s.argument) {
    case argument_kind::shell:
      out += fmt::format("complete -c netpen -n {} -f -a 'bash zsh fish'\n", quoted(at_argument));
      break;
    case argument_kind::sandbox:
      out += fmt::format("complete -c netpen -n {} -f -a '(__netpen_list sandboxes)'\n",
                         quoted(at_argument));
      break;
    case argument_kind::flow_log: out += fmt::format("complete -c netpen -n {} -F\n", quoted(at_argument)); break;
    case argument_kind::sandbox_new:
    case argument_kind::none: out += fmt::format("complete -c netpen -n {} -f\n", quoted(in_sub)); break;
  }
  if (s.run_options) out += option_lines(model, in_sub);
  return out;
}

}  // namespace

std::string fish_script(const cli_model& model) {
  std::vector<std::string> value_options;
  for (const auto& o : model.options)
    if (o.value != value_kind::none)
      for (auto& sp : o.spellings()) value_options.push_back(std::move(sp));
  value_options.push_back("--format");
  value_options.push_back("--exec-group");
  std::vector<std::string> with_command;
  for (const auto& s : model.subcommands)
    if (s.command) with_command.emplace_back(s.name);
  std::string subs;
  for (const auto& s : model.subcommands) subs += subcommand_lines(model, s);

  return fmt::format(
      R"gen(# fish completion for netpen. Generated from netpen's own option table by
# `netpen completion fish`; do not edit.

set -g __netpen_subcommands {subcommands}
set -g __netpen_value_options {value_options}

# True when the word being typed is the first argument.
function __netpen_first_word
    test (count (commandline -opc)) -eq 1
end

# True when the first argument is the subcommand $argv[1].
function __netpen_subcommand
    set -l words (commandline -opc)
    test (count $words) -ge 2; and test "$words[2]" = "$argv[1]"
end

# True when no subcommand was given (the run options).
function __netpen_run
    set -l words (commandline -opc)
    test (count $words) -lt 2; and return 0
    not contains -- $words[2] $__netpen_subcommands
end

# The index of the command's first word when the command has started.
function __netpen_command_start
    set -l words (commandline -opc)
    set -l sub
    set -l named 0
    set -l i 2
    if test (count $words) -ge 2; and contains -- $words[2] $__netpen_subcommands
        set sub $words[2]
        set i 3
    end
    while test $i -le (count $words)
        set -l word $words[$i]
        if test "$word" = --; and begin; test -z "$sub"; or contains -- $sub {with_command}; end
            echo (math $i + 1)
            return 0
        end
        if contains -- (string split -m1 = -- $word)[1] $__netpen_value_options; and not string match -q -- '*=*' $word
            set i (math $i + 2)
            continue
        end
        if string match -q -- '-*' $word
            set i (math $i + 1)
            continue
        end
        if test -z "$sub"; or begin; test $named -eq 1; and contains -- $sub {with_command}; end
            echo $i
            return 0
        end
        set named 1
        set i (math $i + 1)
    end
    return 1
end

# True when the subcommand has not had its argument yet.
function __netpen_no_argument
    set -l words (commandline -opc)
    for word in $words[3..-1]
        string match -q -- '-*' $word; or return 1
    end
    return 0
end

function __netpen_in_command
    __netpen_command_start >/dev/null
end

function __netpen_profiles
    set -l words (commandline -opc)
    set -l config
    set -l i (contains -i -- --config $words)
    and set config --config $words[(math $i + 1)]
    __netpen_list profiles $config
end

# Inside the command: complete it as fish would on its own.
function __netpen_complete_command
    set -l start (__netpen_command_start)
    set -l words (commandline -opc)
    set -l n (count $words)
    if test $start -gt $n
        __fish_complete_command
        return
    end
    complete -C (string join ' ' -- (string escape -- $words[$start..$n]) (commandline -ct))
end

function __netpen_list
    set -l words (commandline -opc)
    command $words[1] completion --list $argv 2>/dev/null
end

complete -c netpen -n '__netpen_in_command' -f -a '(__netpen_complete_command)'
complete -c netpen -n '__netpen_run; and not __netpen_in_command; and __fish_is_first_arg' -f -a '(__fish_complete_command)'
{run_options}{subs})gen",
      fmt::arg("subcommands", join(detail::subcommand_names(model), " ")),
      fmt::arg("value_options", join(value_options, " ")), fmt::arg("with_command", join(with_command, " ")),
      fmt::arg("run_options", option_lines(model, "__netpen_run; and not __netpen_in_command")),
      fmt::arg("subs", subs));
}

}  // namespace netpen::app::cli::completion
