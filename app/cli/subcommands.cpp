// The subcommands of cli.md (doctor, cleanup, completion, create, exec,
// destroy, list, report; their table is completion/cli_model's): recognised
// only as the first word, arguments validated.
#include <algorithm>
#include <array>
#include <optional>
#include <vector>

#include "app/cli/completion/cli_model.hpp"
#include "app/cli/help_text.hpp"
#include "app/cli/subcommand_help.hpp"
#include "app/cli/run_options.hpp"
#include "app/cli/validators.hpp"
#include "app/sandboxes/sandbox_name.hpp"

namespace netpen::app::cli {
namespace {

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
  if (!sandboxes::is_sandbox_name(name))
    return usage(sub, "'" + std::string(name) +
                          "' is not a sandbox name (1 to 32 of a-z, 0-9, '_', '-'; starting with a letter or digit)");
  return {};
}

// `create NAME ... --exec-group GROUP` (or --exec-group=GROUP): create's own
// option, taken out before the run options are parsed.
result<std::optional<std::string>> take_exec_group(std::vector<std::string>& args) {
  std::optional<std::string> group;
  for (std::size_t i = 0; i < args.size();) {
    std::string value;
    if (args[i] == "--exec-group") {
      if (i + 1 >= args.size()) return usage("create", "--exec-group needs a value");
      value = args[i + 1];
      args.erase(args.begin() + static_cast<std::ptrdiff_t>(i), args.begin() + static_cast<std::ptrdiff_t>(i + 2));
    } else if (args[i].starts_with("--exec-group=")) {
      value = args[i].substr(13);
      args.erase(args.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
      continue;
    }
    if (group) return usage("create", "--exec-group given more than once");
    if (value.empty()) return usage("create", "--exec-group: empty value");
    group = value;
  }
  return group;
}

// The hidden `completion --list WHAT [--config FILE]` the scripts call:
// never an error (a completion must not print one).
completion_command completion_list(std::span<const std::string> args) {
  completion_command c;
  c.list = args.empty() || args.front().empty() ? "none" : args.front();
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) c.config = args[i + 1];
    else if (args[i].starts_with("--config=")) c.config = args[i].substr(9);
  }
  return c;
}

// `doctor --root`: doctor's own flag, taken out before the common ones.
result<bool> take_root_flag(std::vector<std::string>& args) {
  const auto n = std::ranges::count(args, std::string("--root"));
  if (n > 1) return usage("doctor", "--root given more than once");
  std::erase(args, std::string("--root"));
  return n == 1;
}


}  // namespace

bool is_subcommand(std::string_view word) {
  return std::ranges::any_of(completion::subcommand_table(), [&](const auto& s) { return s.name == word; });
}

result<command_line> parse_subcommand(std::span<const std::string> args) {
  const std::string sub = args.front();
  std::span<const std::string> rest = args.subspan(1);
  using completion::report_formats;
  static constexpr std::array<std::string_view, 1> shell_word{"shell (bash, zsh or fish)"};
  static constexpr std::array<std::string_view, 1> name_word{"sandbox NAME"};
  static constexpr std::array<std::string_view, 1> log_word{"FLOW_LOG"};

  if (sub == "completion") {
    if (!rest.empty() && rest.front() == "--man") {
      completion_command man;
      man.man = true;
      return man;
    }
    if (!rest.empty() && rest.front() == "--list") return completion_list(rest.subspan(1));
    auto a = parse_simple(sub, rest, {}, false, shell_word);
    if (!a) return unexpected<error>(a.error());
    if (a->help) return help_command{subcommand_help(sub)};
    const std::string& shell = a->words.front();
    if (shell != "bash" && shell != "zsh" && shell != "fish")
      return usage(sub, "'" + shell + "' is not bash, zsh or fish");
    completion_command c;
    c.shell = shell;
    return c;
  }
  if (sub == "doctor" || sub == "list" || sub == "cleanup" || sub == "destroy" || sub == "report") {
    std::span<const std::string_view> formats;
    std::span<const std::string_view> words;
    if (sub == "doctor" || sub == "list") formats = completion::text_json_formats;
    if (sub == "report") formats = report_formats, words = log_word;
    if (sub == "destroy") words = name_word;
    std::vector<std::string> own(rest.begin(), rest.end());
    bool root = false;
    if (sub == "doctor") {
      auto flag = take_root_flag(own);
      if (!flag) return unexpected<error>(flag.error());
      root = *flag;
    }
    auto a = parse_simple(sub, own, formats, sub == "cleanup", words);
    if (!a) return unexpected<error>(a.error());
    if (a->help) return help_command{subcommand_help(sub)};
    if (sub == "destroy") {
      if (auto ok = check_name(sub, a->words.front()); !ok) return unexpected<error>(ok.error());
    }
    if (sub == "report") {  // the file is read (and its errors reported) by app/report
      report_command report{a->words.front(), report_format::text};
      if (a->format == "markdown") report.format = report_format::markdown;
      if (a->format == "json") report.format = report_format::json;
      if (a->format == "html") report.format = report_format::html;
      if (a->format == "profile") report.format = report_format::profile;
      return report;
    }
    if (sub == "cleanup") return cleanup_command{a->dry_run};
    if (sub == "destroy") return destroy_command{a->words.front()};
    if (sub == "list") return list_command{a->format == "json" ? output_format::json : output_format::text};
    return doctor_command{a->format == "json" ? output_format::json : output_format::text, root};
  }
  // create NAME [OPTIONS] / exec NAME [--] COMMAND [ARGS...]
  if (!rest.empty() && is_help(rest.front())) return help_command{subcommand_help(sub)};
  if (rest.empty()) return usage(sub, "missing sandbox NAME");
  if (auto ok = check_name(sub, rest.front()); !ok) return unexpected<error>(ok.error());
  std::span<const std::string> tail = rest.subspan(1);
  if (sub == "create") {
    std::vector<std::string> options(tail.begin(), tail.end());
    auto group = take_exec_group(options);
    if (!group) return unexpected<error>(group.error());
    auto parsed = parse_run(options, command_mode::none, sub);
    if (!parsed || !std::holds_alternative<run_config>(*parsed)) return parsed;
    if (std::get<run_config>(*parsed).wait_all)
      return usage(sub, "--wait-all is for a run's command (a sandbox has none; each exec waits for its own)");
    return create_command{rest.front(), std::get<run_config>(std::move(*parsed)), std::move(*group)};
  }
  if (!tail.empty() && is_help(tail.front())) return help_command{subcommand_help(sub)};
  if (!tail.empty() && tail.front() == "--") tail = tail.subspan(1);
  if (tail.empty()) return usage(sub, "no command given (usage: netpen exec NAME -- COMMAND [ARGS...])");
  return exec_command{rest.front(), std::vector<std::string>(tail.begin(), tail.end())};
}

}  // namespace netpen::app::cli
