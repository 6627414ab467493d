// The command line as data, for the generated completion scripts and man
// page: every option of the parser's own table (make_options_app(), walked,
// never copied) with its names, value, description and help group, and the
// subcommands of cli.md with their arguments (the same table the usage lines
// of --help and the subcommand parser use). Pure: no I/O.
#pragma once
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace netpen::app::cli::completion {

// What an option's value is, for completing it.
enum class value_kind {
  none,     // a flag
  word,     // free text (an address, a list, a number): nothing to offer
  choice,   // one of `choices` (from a type name "a|b|c" of lowercase words)
  file,     // a file path (type name PATH or FILE)
  profile,  // a profile name of the config file (--profile)
};

struct option_info {
  std::vector<std::string> longs;   // without "--"
  std::vector<std::string> shorts;  // without "-"
  std::string type_name;            // "PATH", "child|egress|...", empty for flags
  std::string description;
  std::string group;                // the --help heading
  value_kind value = value_kind::none;
  std::vector<std::string> choices;
  bool repeatable = false;
  // Every spelling with its dashes: "--output", "-o", ...
  std::vector<std::string> spellings() const;
};

// What a subcommand's positional argument is.
enum class argument_kind { none, shell, sandbox_new, sandbox, flow_log };

struct subcommand_info {
  std::string_view name;
  std::string_view usage;             // after "netpen NAME", without the --format part (usage_line)
  std::string_view description;       // one sentence
  argument_kind argument = argument_kind::none;
  std::span<const std::string_view> formats;  // --format choices; empty: no --format
  std::span<const std::string_view> flags;    // other flags of its own
  bool run_options = false;           // takes the run options (create)
  bool command = false;               // a command follows (exec)
};

// "FLOW_LOG [--format text|markdown|json|html]": the arguments as --help shows them.
std::string usage_line(const subcommand_info& s);

// --format choices of the subcommands (subcommands.cpp validates against these).
inline constexpr std::string_view text_json_formats[] = {"text", "json"};
inline constexpr std::string_view report_formats[] = {"text", "markdown", "json", "html", "profile"};
inline constexpr std::string_view shells[] = {"bash", "zsh", "fish"};

// The subcommands, in the order of --help.
std::span<const subcommand_info> subcommand_table();

struct cli_model {
  std::vector<option_info> options;  // in --help order
  std::span<const subcommand_info> subcommands;
};

cli_model make_cli_model();

// The choices a type name lists: "child|egress|both" -> {child, egress,
// both}; empty unless it is a '|' list of lowercase words.
std::vector<std::string> choices_of(std::string_view type_name);

}  // namespace netpen::app::cli::completion
