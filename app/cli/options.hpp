// The CLI11 definition of every `netpen [OPTIONS]` flag of cli.md, grouped as
// in cli.md, bound to raw (unvalidated) values. Validation is build_config's.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace netpen::app::cli {

struct raw_options {
  std::string config;        // --config FILE (app/cli/profiles)
  std::string profile;       // --profile NAME|PATH
  bool print_config = false;  // --print-config, --dump-profile

  bool root = false;
  std::string network_backend;
  bool run_as_root = false;
  bool map_root = false;  // --map-root: rootless, the command runs as uid 0 with capabilities

  std::string dns;
  std::string hosts_file;

  std::string proxy;
  std::string proxy_user;
  std::string proxy_password;
  std::string proxy_password_file;
  bool proxy_insecure = false;
  bool proxy_only = false;

  std::string output;
  std::string capture_point;

  bool offline = false;
  bool block_private = false;
  bool block_metadata = false;
  std::vector<std::string> allow;
  std::vector<std::string> allow_file;
  std::vector<std::string> deny;
  std::vector<std::string> deny_file;
  std::string default_policy;
  bool interactive = false;
  std::string prompt_timeout;
  std::string udp_timeout;
  std::string udp_stream_timeout;
  bool fail_on_leak = false;
  std::vector<std::string> allow_unix;  // --allow-unix PATH (repeatable)
  bool block_unix = false;              // --block-unix

  std::string iface;
  std::vector<std::string> host_port;
  std::vector<std::string> publish;

  bool analyse = false;
  std::string log;
  bool summary = false;
  std::string summary_format;
  bool quiet = false;
  bool verbose = false;
  bool dry_run = false;
  std::string learn;     // --learn PATH: write a profile of what the run reached
  bool wait_all = false;  // --wait-all: wait for the whole tree, not just the command
  bool help = false;
  bool version = false;
};

// The main app: all options bound into `raw`, which must outlive the app.
// CLI11's own help/version handling is off; -h and -V are plain flags.
std::unique_ptr<CLI::App> make_options_app(raw_options& raw);

// Whether an option takes a value, and whether it may be given repeatedly.
bool takes_value(const CLI::Option& opt);
bool repeatable(const CLI::Option& opt);

// The long name to show for an option (the one of cli.md: "--dns" for -d).
std::string display_name(const CLI::Option& opt, std::string_view typed);

}  // namespace netpen::app::cli
