// The subcommands of cli.md (doctor, cleanup, completion, create, exec,
// destroy, list, report): recognised only as the first word, arguments
// validated; all but `completion`, `report` and `cleanup` are rejected as not
// supported yet.
#include <algorithm>
#include <array>
#include <optional>
#include <vector>

#include "app/cli/help_text.hpp"
#include "app/cli/run_options.hpp"
#include "app/cli/validators.hpp"

namespace netpen::app::cli {
namespace {

constexpr std::array<std::string_view, 8> subcommands{"doctor", "cleanup", "completion", "create",
                                                      "exec",   "destroy", "list",       "report"};

unexpected<error> usage(std::string_view sub, std::string message) {
  return fail("usage", std::string(sub) + ": " + message);
}

bool is_help(std::string_view arg) { return arg == "-h" || arg == "--help"; }

// Simple subcommand arguments: optional --format, optional --dry-run, and a
// fixed number of positional words.
struct simple_args {
  std::optional<std::string> format;
  bool dry_run = false;
  std::vector<std::string> words;
  bool help = false;
};

result<simple_args> parse_simple(std::string_view sub, std::span<const std::string> args,
                                 std::span<const std::string_view> formats, bool dry_run_ok,
                                 std::span<const std::string_view> word_names) {
  simple_args out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (is_help(arg)) {
      out.help = true;
      return out;
    }
    if (!formats.empty() && (arg == "--format" || arg.starts_with("--format="))) {
      if (out.format) return usage(sub, "--format given more than once");
      if (arg == "--format") {
        if (i + 1 >= args.size()) return usage(sub, "--format needs a value");
        out.format = args[++i];
      } else {
        out.format = arg.substr(9);
      }
      if (std::ranges::find(formats, std::string_view(*out.format)) == formats.end()) {
        std::string list;
        for (std::size_t k = 0; k < formats.size(); ++k)
          list += (k == 0 ? "" : (k + 1 == formats.size() ? " or " : ", ")) + std::string(formats[k]);
        return usage(sub, "--format: '" + *out.format + "' is not " + list);
      }
      continue;
    }
    if (dry_run_ok && arg == "--dry-run") {
      out.dry_run = true;
      continue;
    }
    if (arg.size() > 1 && arg.front() == '-') return usage(sub, unknown_option_message(arg.substr(0, arg.find('='))));
    if (out.words.size() >= word_names.size()) return usage(sub, "unexpected argument '" + arg + "'");
    out.words.push_back(arg);
  }
  if (out.words.size() < word_names.size()) return usage(sub, "missing " + std::string(word_names[out.words.size()]));
  return out;
}

result<void> check_name(std::string_view sub, std::string_view name) {
  bool ok = !name.empty() && name.size() <= 64 && name.front() != '-' && name.front() != '.';
  for (char c : name)
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                c == '.');
  if (!ok) return usage(sub, "'" + std::string(name) + "' is not a sandbox name (letters, digits, '-', '_', '.')");
  return {};
}

unexpected<error> not_supported(std::string_view sub) {
  return fail("not-supported", "'" + std::string(sub) + "' is not supported yet");
}

}  // namespace

bool is_subcommand(std::string_view word) { return std::ranges::find(subcommands, word) != subcommands.end(); }

result<command_line> parse_subcommand(std::span<const std::string> args) {
  const std::string sub = args.front();
  std::span<const std::string> rest = args.subspan(1);
  static constexpr std::array<std::string_view, 2> text_json{"text", "json"};
  static constexpr std::array<std::string_view, 3> report_formats{"text", "markdown", "json"};
  static constexpr std::array<std::string_view, 1> shell_word{"shell (bash, zsh or fish)"};
  static constexpr std::array<std::string_view, 1> name_word{"sandbox NAME"};
  static constexpr std::array<std::string_view, 1> log_word{"FLOW_LOG"};

  if (sub == "completion") {
    auto a = parse_simple(sub, rest, {}, false, shell_word);
    if (!a) return unexpected<error>(a.error());
    if (a->help) return help_command{help_text()};
    const std::string& shell = a->words.front();
    if (shell != "bash" && shell != "zsh" && shell != "fish")
      return usage(sub, "'" + shell + "' is not bash, zsh or fish");
    return completion_command{shell};
  }
  if (sub == "doctor" || sub == "list" || sub == "cleanup" || sub == "destroy" || sub == "report") {
    std::span<const std::string_view> formats;
    std::span<const std::string_view> words;
    if (sub == "doctor" || sub == "list") formats = text_json;
    if (sub == "report") formats = report_formats, words = log_word;
    if (sub == "destroy") words = name_word;
    auto a = parse_simple(sub, rest, formats, sub == "cleanup", words);
    if (!a) return unexpected<error>(a.error());
    if (a->help) return help_command{help_text()};
    if (sub == "destroy") {
      if (auto ok = check_name(sub, a->words.front()); !ok) return unexpected<error>(ok.error());
    }
    if (sub == "report") {  // the file is read (and its errors reported) by app/report
      report_command report{a->words.front(), report_format::text};
      if (a->format == "markdown") report.format = report_format::markdown;
      if (a->format == "json") report.format = report_format::json;
      return report;
    }
    if (sub == "cleanup") return cleanup_command{a->dry_run};
    return not_supported(sub);
  }
  // create NAME [OPTIONS] / exec NAME [--] COMMAND [ARGS...]
  if (!rest.empty() && is_help(rest.front())) return help_command{help_text()};
  if (rest.empty()) return usage(sub, "missing sandbox NAME");
  if (auto ok = check_name(sub, rest.front()); !ok) return unexpected<error>(ok.error());
  std::span<const std::string> tail = rest.subspan(1);
  if (sub == "create") {
    auto parsed = parse_run(tail, command_mode::none, sub, false);
    if (!parsed || !std::holds_alternative<run_config>(*parsed)) return parsed;
    return not_supported(sub);
  }
  if (!tail.empty() && is_help(tail.front())) return help_command{help_text()};
  if (!tail.empty() && tail.front() == "--") tail = tail.subspan(1);
  if (tail.empty()) return usage(sub, "no command given (usage: netpen exec NAME -- COMMAND [ARGS...])");
  return not_supported(sub);
}

}  // namespace netpen::app::cli
