// The text of `netpen --help`: usage lines, option groups, environment and
// exit statuses.
#include "app/cli/help_text.hpp"

#include "app/cli/options.hpp"

namespace netpen::app::cli {
namespace {

class netpen_formatter : public CLI::Formatter {
 public:
  netpen_formatter() { column_width(36); }

  std::string make_usage(const CLI::App*, std::string) const override {
    return "Usage:\n"
           "  netpen [OPTIONS] -- COMMAND [ARGS...]\n"
           "  netpen doctor [--format text|json]\n"
           "  netpen cleanup [--dry-run]\n"
           "  netpen completion bash|zsh|fish\n"
           "  netpen create NAME [OPTIONS]\n"
           "  netpen exec NAME -- COMMAND [ARGS...]\n"
           "  netpen destroy NAME\n"
           "  netpen list [--format text|json]\n"
           "  netpen report FLOW_LOG [--format text|markdown|json]\n"
           "\n"
           "The command may also follow the options without '--': the first word that is\n"
           "not an option starts it, and everything after it belongs to the command.\n";
  }
};

}  // namespace

std::shared_ptr<CLI::Formatter> make_help_formatter() { return std::make_shared<netpen_formatter>(); }

std::string help_footer() {
  return "Environment:\n"
         "  NETPEN_DEBUG=1                      turn on debug lines\n"
         "  NETPEN_PROXY_PASSWORD               proxy password (instead of -P)\n"
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
