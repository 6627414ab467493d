// The text of `netpen --help`: usage lines, option groups, environment and
// exit statuses.
#include "app/cli/help_text.hpp"

#include <algorithm>

#include "app/cli/completion/cli_model.hpp"
#include "app/cli/options.hpp"

namespace netpen::app::cli {
namespace {

constexpr std::size_t name_column = 34;
constexpr std::size_t text_width = 80;

// "-o, --output, -c, --capture PATH": each short name next to its long name.
std::string option_names(const CLI::Option& opt) {
  const auto& shorts = opt.get_snames();
  const auto& longs = opt.get_lnames();
  std::string out;
  for (std::size_t i = 0; i < std::max(shorts.size(), longs.size()); ++i) {
    if (i < shorts.size()) out += (out.empty() ? "-" : ", -") + shorts[i];
    if (i < longs.size()) out += (out.empty() ? "--" : ", --") + longs[i];
  }
  if (opt.get_expected_max() > 0) out += " " + opt.get_type_name();
  return out;
}

// Word-wraps `text` into lines of text_width, continuation lines indented.
std::string wrap(const std::string& text, std::size_t indent) {
  std::string out;
  std::size_t col = indent;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto end = text.find(' ', pos);
    if (end == std::string::npos) end = text.size();
    std::string word = text.substr(pos, end - pos);
    if (col > indent && col + 1 + word.size() > text_width) {
      out += "\n" + std::string(indent, ' ');
      col = indent;
    } else if (col > indent) {
      out += ' ';
      ++col;
    }
    out += word;
    col += word.size();
    pos = end + 1;
  }
  return out;
}

class netpen_formatter : public CLI::Formatter {
 public:
  std::string make_help(const CLI::App* app, std::string name, CLI::AppFormatMode mode) const override {
    return app->get_description() + "\n\n" + make_usage(app, name) + "\n" + make_groups(app, mode) + "\n" +
           make_footer(app);
  }

  std::string make_group(std::string group, bool, std::vector<const CLI::Option*> opts) const override {
    std::string out = group + ":\n";
    for (const CLI::Option* opt : opts) out += make_option(opt, false);
    return out;
  }

  std::string make_option(const CLI::Option* opt, bool) const override {
    std::string names = "  " + option_names(*opt);
    if (names.size() + 2 > name_column) names += "\n" + std::string(name_column, ' ');
    else names += std::string(name_column - names.size(), ' ');
    return names + wrap(opt->get_description(), name_column) + "\n";
  }

  std::string make_usage(const CLI::App*, std::string) const override {
    std::string usage = "Usage:\n  netpen [OPTIONS] -- COMMAND [ARGS...]\n";
    for (const auto& s : completion::subcommand_table())
      usage += "  netpen " + std::string(s.name) + " " + completion::usage_line(s) + "\n";
    return usage + "\n"
           "The command may also follow the options without '--': the first word that\n"
           "is not an option starts it; everything after it belongs to the command.\n"
           "\n"
           "Persistent sandboxes (docs/sandboxes.md): `create` sets up a named sandbox\n"
           "with the run options (policy, DNS, hosts, proxy, log, capture, --root) and\n"
           "returns once it is ready; `exec` runs commands in it (one network, policy,\n"
           "log and capture for all; exit status and signals pass through; a terminal\n"
           "gets a pty with job control); `destroy` ends it (the log's end, the\n"
           "summary); `list` shows live and dead ones; `cleanup` removes dead ones.\n"
           "NAME: 1 to 32 of a-z, 0-9, '_', '-', starting with a letter or digit.\n"
           "--exec-group GROUP (root only): members of GROUP may exec (as themselves).\n"
           "create --interactive is refused: the sandbox's daemon has no terminal.\n";
  }
};

}  // namespace

std::shared_ptr<CLI::Formatter> make_help_formatter() { return std::make_shared<netpen_formatter>(); }

std::string help_footer() {
  return "Environment:\n"
         "  NETPEN_DEBUG=1                    turn on debug lines\n"
         "  NETPEN_PROXY_PASSWORD             proxy password (instead of -P)\n"
         "\n"
         "Exit status:\n"
         "  the command's own status; 128+N when it died of signal N;\n"
         "  2 for a usage error (bad flag, bad value, missing file);\n"
         "  1 for a netpen failure at run time (with 'netpen: error: ...');\n"
         "  1 for --fail-on-leak when something was denied and the command exited 0.";
}

std::string help_text() {
  raw_options raw;
  auto app = make_options_app(raw);
  return app->help("netpen");
}

}  // namespace netpen::app::cli
