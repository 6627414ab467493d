// The validated result of parsing the command line: everything a run needs,
// already checked (addresses parsed, files readable, flags compatible).
// Produced by app/cli/parse_command_line, consumed by app/run.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace netpen::app {

// A resolver address: IPv4 or IPv6 literal plus port (default 53).
struct endpoint_spec {
  std::string address;  // literal, no brackets, e.g. "192.0.2.53" or "2001:db8::53"
  std::uint16_t port = 53;
  bool v6 = false;
};

enum class backend_kind { rootless, rootful };
enum class output_format { text, json };

struct run_config {
  backend_kind backend = backend_kind::rootless;
  std::vector<std::string> command;              // non-empty

  std::optional<endpoint_spec> dns;              // -d/--dns
  std::optional<std::string> hosts_file;         // --hosts-file (path, readable)
  std::string hosts_file_contents;               // its contents, read at parse time

  bool quiet = false;
  bool verbose = false;
  bool dry_run = false;
};

// Subcommands other than running a command.
struct doctor_command { output_format format = output_format::text; };
struct cleanup_command { bool dry_run = false; };
struct completion_command { std::string shell; };
struct version_command {};
struct help_command { std::string text; };

using command_line = std::variant<run_config, doctor_command, cleanup_command, completion_command,
                                  version_command, help_command>;

}  // namespace netpen::app
