// The validated result of parsing the command line: everything a run needs,
// already checked (addresses parsed, files readable, flags compatible).
// Produced by app/cli/parse_command_line, consumed by app/run.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "net/policy/rule.hpp"

namespace netpen::app {

// A resolver address: IPv4 or IPv6 literal plus port (default 53).
struct endpoint_spec {
  std::string address;  // literal, no brackets, e.g. "192.0.2.53" or "2001:db8::53"
  std::uint16_t port = 53;
  bool v6 = false;
};

enum class backend_kind { rootless, rootful };
enum class output_format { text, json };

// -p/--proxy, parsed: userinfo percent-decoded, host without brackets.
enum class proxy_scheme { http, https, socks5, socks5h };
struct proxy_spec {
  proxy_scheme scheme = proxy_scheme::http;
  std::string host;  // DNS name (lowercased), IPv4 literal or IPv6 literal
  bool host_v6 = false;
  std::uint16_t port = 0;
  std::optional<std::string> user;      // from the URI's userinfo
  std::optional<std::string> password;  // from the URI's userinfo
};

// One allow/deny list entry (--allow, --deny, --allow-file, --deny-file):
// the policy engine's rule, origin set to the flag or "file:line".
using policy_entry = policy::rule;

enum class capture_point { child, egress, wire_egress, both };
enum class default_policy { allow, deny };
struct port_range { std::uint16_t first = 0; std::uint16_t last = 0; bool udp = false; };  // udp false: TCP
// --publish [ADDR:][HOST_PORT:]PORT[/udp]: a server in the sandbox on PORT,
// reachable on the host at ADDR:HOST_PORT (app/cli/publish_spec.hpp).
struct publish_spec {
  std::string host_address = "127.0.0.1";  // ADDR, an IP literal (IPv6 without brackets)
  std::uint16_t host_port = 0;
  std::uint16_t sandbox_port = 0;
  bool udp = false;
  friend bool operator==(const publish_spec&, const publish_spec&) = default;
};

struct run_config {
  backend_kind backend = backend_kind::rootless;
  std::vector<std::string> command;              // non-empty

  std::optional<endpoint_spec> dns;              // -d/--dns
  std::optional<std::string> hosts_file;         // --hosts-file (path, readable)
  std::string hosts_file_contents;               // its contents, read at parse time

  bool quiet = false;
  bool verbose = false;
  bool dry_run = false;
  bool wait_all = false;                         // --wait-all: wait for the whole tree, not only the command

  bool run_as_root = false;                      // --run-as-root (rootful only)
  bool map_root = false;                         // --map-root (rootless only): uid 0 with capabilities inside
  std::optional<proxy_spec> proxy;               // -p/--proxy
  std::optional<std::string> proxy_user;         // -U/--proxy-user (or the URI's)
  std::optional<std::string> proxy_password;     // -P, --proxy-password-file contents (or the URI's)
  bool proxy_insecure = false;                   // https proxy only
  bool proxy_only = false;                       // requires a proxy
  bool proxy_password_in_argv = false;           // -P or a URI password: visible in ps, warn
  std::optional<std::string> capture_path;       // -o/--output, -c/--capture
  capture_point capture_at = capture_point::child;  // -C/--capture-point
  bool offline = false;
  bool block_private = false;
  bool block_metadata = false;
  std::vector<policy_entry> allow;               // --allow and --allow-file, in order
  std::vector<policy_entry> deny;                // --deny and --deny-file, in order
  std::optional<default_policy> default_policy_choice;  // --default-policy (unset: deny iff allow rules)
  bool interactive = false;
  unsigned prompt_timeout_s = 30;                // --prompt-timeout
  unsigned udp_timeout_s = 30;                   // --udp-timeout: idle expiry of an unanswered UDP flow
  unsigned udp_stream_timeout_s = 180;           // --udp-stream-timeout: ... of one that got replies
  bool fail_on_leak = false;
  bool block_unix = false;                       // --block-unix (set by build_config under default deny too)
  std::vector<std::string> allow_unix;           // --allow-unix, absolute paths
  std::optional<std::string> egress_iface;       // -i/--iface (rootful only)
  std::vector<port_range> host_ports;            // --host-port (at most max_host_ports ports in all)
  std::vector<publish_spec> publish;             // --publish
  bool analyse = false;
  std::optional<std::string> flow_log_path;      // --log/--flow-log
  bool summary = false;                          // --summary (implied by --summary-format)
  output_format summary_format = output_format::text;
  std::optional<std::string> learn_path;         // --learn: write a learned profile here at the end
};

// Subcommands other than running a command.
struct doctor_command {  // netpen doctor [--format text|json] [--root] (app/doctor)
  output_format format = output_format::text;
  bool root = false;  // check the rootful backend instead of the rootless one
};
struct cleanup_command { bool dry_run = false; };
struct completion_command {  // netpen completion bash|zsh|fish (app/cli/completion)
  std::string shell;
  std::string list;                   // hidden --list profiles|sandboxes (for the scripts)
  std::optional<std::string> config;  // ... --config FILE for the profiles
  bool man = false;                   // hidden --man: print netpen(1)
};
struct version_command {};
struct help_command { std::string text; };
enum class report_format { text, markdown, json, html, profile };
struct report_command {  // netpen report FLOW_LOG [--format ...] (app/report)
  std::string flow_log;
  report_format format = report_format::text;
};

// Persistent sandboxes (app/sandboxes).
struct create_command {  // netpen create NAME [OPTIONS] [--exec-group GROUP]
  std::string name;
  run_config run;                         // the options; no command
  std::optional<std::string> exec_group;  // members may exec (root only)
};
struct exec_command {  // netpen exec NAME [--] COMMAND [ARGS...]
  std::string name;
  std::vector<std::string> command;
};
struct list_command { output_format format = output_format::text; };
struct destroy_command { std::string name; };

using command_line = std::variant<run_config, doctor_command, cleanup_command, completion_command,
                                  version_command, help_command, report_command, create_command, exec_command,
                                  list_command, destroy_command>;

}  // namespace netpen::app
