// netpen's command-line parser: splits `[OPTIONS] [--] COMMAND...`, maps
// tokens onto the CLI11 definitions with GNU conventions, then validates.
#include "app/cli/parse_command_line.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <vector>

#include "app/cli/build_config.hpp"
#include "app/cli/help_text.hpp"
#include "app/cli/options.hpp"
#include "app/cli/profiles/print_config.hpp"
#include "app/cli/profiles/profile_loader.hpp"
#include "app/cli/run_options.hpp"
#include "app/cli/validators.hpp"

namespace netpen::app {
namespace cli {
namespace {

struct scanned {
  std::vector<std::string> tokens;  // normalized "--long" / "--long=value" for CLI11
  flag_names shown;                 // "--output" -> "--capture" when typed so
  std::vector<std::string> command;
  bool help = false;
  bool version = false;
};

unexpected<error> usage(std::string message) { return fail("usage", std::move(message)); }

// Optimal string alignment distance (a swap of neighbours counts as one).
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i)
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

// Records one occurrence of `opt`, typed as `typed`, with an optional value.
result<void> record(scanned& out, std::map<const CLI::Option*, int>& counts, const CLI::Option& opt,
                    std::string_view typed, const std::string* value) {
  std::string name = display_name(opt, typed);
  if (takes_value(opt) && !repeatable(opt) && ++counts[&opt] > 1) return usage(name + " given more than once");
  if (value != nullptr && value->empty()) return fail("bad-value", name + ": empty value");
  const std::string& key = opt.get_lnames().front();
  out.shown["--" + key] = name;
  if (key == "help") out.help = true;
  if (key == "version") out.version = true;
  out.tokens.push_back("--" + key + (value != nullptr ? "=" + *value : std::string()));
  return {};
}

result<void> scan(const CLI::App& app, std::span<const std::string> args, command_mode mode, std::string_view context,
                  scanned& out) {
  std::map<const CLI::Option*, int> counts;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      if (mode == command_mode::none) return usage(std::string(context) + ": unexpected '--'");
      out.command.assign(args.begin() + static_cast<std::ptrdiff_t>(i + 1), args.end());
      return {};
    }
    if (arg.size() < 2 || arg.front() != '-') {
      if (mode == command_mode::none) return usage(std::string(context) + ": unexpected argument '" + arg + "'");
      out.command.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
      return {};
    }
    auto next_value = [&](const std::string& name) -> result<const std::string*> {
      if (i + 1 >= args.size() || args[i + 1] == "--") return usage(name + " needs a value");
      return &args[++i];
    };
    if (arg.starts_with("--")) {
      auto eq = arg.find('=');
      std::string name = arg.substr(0, eq);
      const CLI::Option* opt = app.get_option_no_throw(name);
      if (opt == nullptr || opt->get_lnames().empty()) return usage(unknown_option_message(name));
      std::string inline_value;
      const std::string* value = nullptr;
      if (eq != std::string::npos) {
        if (!takes_value(*opt)) return usage(display_name(*opt, name) + " does not take a value");
        inline_value = arg.substr(eq + 1);
        value = &inline_value;
      } else if (takes_value(*opt)) {
        auto v = next_value(display_name(*opt, name));
        if (!v) return unexpected<error>(v.error());
        value = *v;
      }
      if (auto ok = record(out, counts, *opt, name, value); !ok) return ok;
      continue;
    }
    // A cluster of short flags: -qv, -dIP, -d IP.
    for (std::size_t j = 1; j < arg.size(); ++j) {
      std::string name{'-', arg[j]};
      const CLI::Option* opt = app.get_option_no_throw(name);
      if (opt == nullptr || opt->get_lnames().empty()) {
        std::string msg = unknown_option_message(name);
        if (arg.size() > 2) msg += " in '" + arg + "'";
        return usage(msg);
      }
      if (!takes_value(*opt)) {
        if (auto ok = record(out, counts, *opt, name, nullptr); !ok) return ok;
        continue;
      }
      std::string attached = arg.substr(j + 1);
      const std::string* value = &attached;
      if (attached.empty()) {
        auto v = next_value(display_name(*opt, name));
        if (!v) return unexpected<error>(v.error());
        value = *v;
      }
      if (auto ok = record(out, counts, *opt, name, value); !ok) return ok;
      break;
    }
  }
  return {};
}

// The profile the line asks for (--config, --profile), without the options
// the line gives itself.
result<profiles::loaded_profile> load_line_profile(const std::vector<std::string>& line_tokens) {
  std::string config_arg, profile_arg;
  std::set<std::string> given;
  for (const auto& t : line_tokens) {
    const std::string option = profiles::option_of(t);
    given.insert(option);
    const auto eq = t.find('=');
    if (option == "--config" && eq != std::string::npos) config_arg = t.substr(eq + 1);
    if (option == "--profile" && eq != std::string::npos) profile_arg = t.substr(eq + 1);
  }
  auto loaded = profiles::load_profile(config_arg, profile_arg);
  if (!loaded) return loaded;
  loaded->tokens = profiles::without_options(std::move(loaded->tokens), given);
  return loaded;
}

}  // namespace

std::string unknown_option_message(std::string_view typed) {
  std::string msg = "unknown option '" + std::string(typed) + "'";
  if (!typed.starts_with("--")) return msg;
  raw_options raw;
  auto app = make_options_app(raw);
  std::string best;
  std::size_t best_distance = 3;
  for (const CLI::Option* opt : app->get_options())
    for (const auto& l : opt->get_lnames()) {
      std::size_t d = edit_distance(typed.substr(2), l);
      if (d < best_distance && d * 2 <= l.size()) {
        best_distance = d;
        best = "--" + l;
      }
    }
  if (!best.empty()) msg += "; did you mean '" + best + "'?";
  return msg;
}

result<command_line> parse_run(std::span<const std::string> args, command_mode mode, std::string_view context) {
  raw_options raw;
  auto app = make_options_app(raw);
  scanned s;
  auto scan_ok = scan(*app, args, mode, context, s);
  if (!scan_ok) {
    // -h/--help anywhere among the options still means help.
    for (const auto& arg : args) {
      if (arg == "--") break;
      if (arg == "-h" || arg == "--help") s.help = true;
    }
  }
  if (s.help) return help_command{help_text()};
  if (!scan_ok) return unexpected<error>(scan_ok.error());
  if (s.version) return version_command{};

  // The profile (docs/profiles.md): its tokens first, less the options the
  // line gives, then the line's, through the one parser and validation.
  auto profile = load_line_profile(s.tokens);
  if (!profile) return unexpected<error>(profile.error());
  std::vector<std::string> merged;
  for (const auto& t : profile->tokens) merged.push_back(t.token);
  merged.insert(merged.end(), s.tokens.begin(), s.tokens.end());

  std::vector<std::string> tokens(merged.rbegin(), merged.rend());
  try {
    app->parse(tokens);
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    if (!what.empty()) what.front() = to_lower(what.substr(0, 1)).front();
    return unexpected<error>(profiles::attribute_error(error{"usage", what}, profile->tokens));
  }

  auto config = build_run_config(raw, *app, s.shown);
  if (!config) return unexpected<error>(profiles::attribute_error(config.error(), profile->tokens));
  // A profile's `command` runs when the line gives none; create has no command.
  if (s.command.empty() && mode == command_mode::required) s.command = profile->command;
  if (raw.print_config) {  // printed like help: on stdout, exit 0, nothing run
    std::error_code ec;
    auto cwd = std::filesystem::current_path(ec);
    return help_command{profiles::render_config(merged, s.command, cwd)};
  }
  if (mode == command_mode::required && s.command.empty())
    return usage("no command given (usage: netpen [OPTIONS] -- COMMAND [ARGS...])");
  config->command = std::move(s.command);
  return command_line{std::move(*config)};
}

}  // namespace cli

result<command_line> parse_command_line(std::span<const std::string> args) {
  if (!args.empty() && cli::is_subcommand(args.front())) return cli::parse_subcommand(args);
  return cli::parse_run(args, cli::command_mode::required, "netpen");
}

}  // namespace netpen::app
