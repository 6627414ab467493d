// The CLI11 definition of every `netpen [OPTIONS]` flag of cli.md.
#include "app/cli/options.hpp"

#include "app/cli/help_text.hpp"

namespace netpen::app::cli {

namespace {

// Adds options to `app` under one heading of the help.
class option_group {
 public:
  option_group(CLI::App& app, const char* group) : app_(app), group_(group) {}

  void flag(const char* names, bool& target, const char* desc) { app_.add_flag(names, target, desc)->group(group_); }
  void value(const char* names, std::string& target, const char* type, const char* desc) {
    app_.add_option(names, target, desc)->type_name(type)->group(group_);
  }
  // Repeatable, one value each time.
  void many(const char* names, std::vector<std::string>& target, const char* type, const char* desc) {
    app_.add_option(names, target, desc)->type_name(type)->group(group_)->expected(1)->multi_option_policy(
        CLI::MultiOptionPolicy::TakeAll);
  }

 private:
  CLI::App& app_;
  const char* group_;
};

// --config, --profile, --print-config (app/cli/profiles, docs/profiles.md).
void add_profile_options(raw_options& raw, option_group in) {
  in.value("--config", raw.config, "FILE",
           "read profiles from FILE (default $XDG_CONFIG_HOME/netpen/config.toml, then /etc/netpen/config.toml)");
  in.value("--profile", raw.profile, "NAME|PATH",
           "apply profile NAME of the config file, or the TOML file PATH (a value with '/' or ending in .toml); "
           "options on the command line win");
  in.flag("--print-config,--dump-profile", raw.print_config,
          "print the effective settings as TOML (passwords redacted) and exit");
}

// --root, --network-backend, --run-as-root, --map-root.
void add_backend_options(raw_options& raw, option_group in) {
  in.flag("--root", raw.root, "rootful backend (veth, routing, nftables, TPROXY)");
  in.value("--network-backend", raw.network_backend, "rootless-internal|rootful",
           "same choice, long form (default rootless-internal)");
  in.flag("--run-as-root", raw.run_as_root,
          "rootful: run the command as root instead of the invoking user (SUDO_UID/SUDO_GID)");
  in.flag("--map-root", raw.map_root,
          "rootless: run the command as root (uid 0) with capabilities over the sandbox's own namespaces, "
          "for tools that need it (default: your own uid and gid, no capabilities)");
}

// --dns, --hosts-file.
void add_name_options(raw_options& raw, option_group in) {
  in.value("-d,--dns", raw.dns, "IP",
           "force all DNS of the tree to this IPv4/IPv6 resolver (IP, IP:port, [v6]:port)");
  in.value("--hosts-file", raw.hosts_file, "PATH", "overlay an /etc/hosts-format file for the tree");
}

// --proxy and its credentials, --proxy-insecure, --proxy-only.
void add_proxy_options(raw_options& raw, option_group in) {
  in.value("-p,--proxy", raw.proxy, "URI",
           "http://, https://, socks5://, socks5h:// host:port; user:pass@ in the URI allowed");
  in.value("-U,--proxy-user", raw.proxy_user, "USER", "proxy user name");
  in.value("-P,--proxy-password", raw.proxy_password, "PASS",
           "proxy password (also NETPEN_PROXY_PASSWORD, or --proxy-password-file)");
  in.value("--proxy-password-file", raw.proxy_password_file, "PATH", "read the proxy password from PATH");
  in.flag("--proxy-insecure", raw.proxy_insecure,
          "https proxy: skip certificate chain trust, still check the host name");
  in.flag("--proxy-only", raw.proxy_only, "nothing leaves except through the proxy (UDP, ICMP, direct DNS denied)");
}

// --output, --capture-point.
void add_capture_options(raw_options& raw, option_group in) {
  in.value("-o,--output,-c,--capture", raw.output, "PATH", "write this tree's packets as pcapng");
  in.value("-C,--capture-point", raw.capture_point, "child|egress|wire-egress|both",
           "where to capture (default child)");
}

// --offline, --block-*, allow/deny, --default-policy, --interactive, --fail-on-leak.
void add_policy_options(raw_options& raw, option_group in) {
  in.flag("--offline", raw.offline, "no traffic leaves at all (DNS included)");
  in.flag("--block-private", raw.block_private,
          "deny RFC1918, CGNAT, loopback, link-local, ULA destinations");
  in.flag("--block-metadata", raw.block_metadata,
          "deny cloud metadata endpoints (169.254.169.254, fd00:ec2::254)");
  in.many("--allow,--allow-cidr,--allow-domain", raw.allow, "LIST",
          "repeatable, comma separated: example.com, *.example.com, 93.184.216.34, 10.0.0.0/8, 2001:db8::/32, "
          "each optionally :PORT ([v6]:PORT); any allow rule makes the default deny; name rules judge the "
          "name a connection claims (TLS SNI, HTTP Host, QUIC) where it shows one (docs/policy.md)");
  in.many("--allow-file", raw.allow_file, "PATH", "allow entries, one a line, # comments");
  in.many("--deny,--deny-cidr,--deny-domain", raw.deny, "LIST", "same syntax as --allow; deny wins over allow");
  in.many("--deny-file", raw.deny_file, "PATH", "deny entries, one a line, # comments");
  in.value("--default-policy", raw.default_policy, "allow|deny", "explicit default");
  in.flag("--interactive", raw.interactive, "default deny; ask on the terminal for each new destination");
  in.value("--prompt-timeout", raw.prompt_timeout, "SECS", "interactive: auto-deny after SECS (default 30)");
  in.flag("--fail-on-leak", raw.fail_on_leak, "exit 1 if anything was denied while the command exited 0");
  in.flag("--block-unix", raw.block_unix,
          "the tree may not connect or send to a Unix socket path it did not create (on by default under "
          "--offline and any default-deny policy; docs/security.md)");
  in.many("--allow-unix", raw.allow_unix, "PATH",
          "repeatable: the tree may connect to this Unix socket (a directory: any socket below it)");
}

// --iface, --host-port, --publish.
void add_egress_options(raw_options& raw, option_group in) {
  in.value("-i,--iface", raw.iface, "NAME", "rootful: force direct egress through this host interface");
  in.many("--host-port", raw.host_port, "PORTS",
          "make these ports of the host's loopback reachable inside the sandbox at 127.0.0.1, [::1] and the "
          "gateway address: TCP 8080,9000-9010, UDP udp/5353; flows to them bypass the allow/deny policy "
          "and --offline (you opened them), other host ports stay closed");
  in.many("--publish", raw.publish, "[ADDR:][HOST_PORT:]PORT[/udp]",
          "make a server listening inside the sandbox on PORT reachable on the host's 127.0.0.1:HOST_PORT "
          "(or ADDR:HOST_PORT); inbound connections are not subject to the policy");
}

// --udp-timeout, --udp-stream-timeout.
void add_relay_options(raw_options& raw, option_group in) {
  in.value("--udp-timeout", raw.udp_timeout, "SECS",
           "a UDP flow that got no reply expires after SECS idle (default 30)");
  in.value("--udp-stream-timeout", raw.udp_stream_timeout, "SECS",
           "a UDP flow that got replies expires after SECS idle (default 180)");
}

// --analyse, --log, --summary[-format], -q, -v, --dry-run, -h, -V.
void add_output_options(raw_options& raw, option_group in) {
  in.flag("--analyse", raw.analyse, "live event lines on stderr (DNS, TCP, UDP, ICMP; allowed/denied; process)");
  in.value("--log,--flow-log", raw.log, "PATH", "JSON Lines flow log (one event a line, schema_version)");
  in.flag("--summary", raw.summary, "run summary on stderr after the command ends");
  in.value("--summary-format", raw.summary_format, "text|json", "summary format (implies --summary)");
  in.flag("-q,--quiet", raw.quiet, "less netpen output");
  in.flag("-v,--verbose", raw.verbose, "more netpen output");
  in.flag("--dry-run", raw.dry_run, "print what would be set up (capture and log files included), set up nothing");
  in.value("--learn", raw.learn, "PATH",
           "at the end, write a profile to PATH allowing what the run reached (names and ports; docs/profiles.md)");
  in.flag("--wait-all", raw.wait_all,
          "wait for every process of the tree to exit, not only the command (background children)");
  in.flag("-h,--help", raw.help, "print this help and exit");
  in.flag("-V,--version", raw.version, "print the version and exit");
}

}  // namespace

std::unique_ptr<CLI::App> make_options_app(raw_options& raw) {
  auto app = std::make_unique<CLI::App>("netpen: run one command tree in its own network sandbox", "netpen");
  app->set_help_flag();
  app->formatter(make_help_formatter());
  app->footer(help_footer());
  app->option_defaults()->always_capture_default(false);
  // In this order in --help.
  add_profile_options(raw, option_group(*app, "Profiles"));
  add_backend_options(raw, option_group(*app, "Backend"));
  add_name_options(raw, option_group(*app, "DNS and names"));
  add_proxy_options(raw, option_group(*app, "Proxy"));
  add_capture_options(raw, option_group(*app, "Capture"));
  add_policy_options(raw, option_group(*app, "Policy"));
  add_egress_options(raw, option_group(*app, "Egress and host access"));
  add_relay_options(raw, option_group(*app, "Relay"));
  add_output_options(raw, option_group(*app, "Output"));
  return app;
}

bool takes_value(const CLI::Option& opt) { return opt.get_expected_max() > 0; }

bool repeatable(const CLI::Option& opt) {
  return opt.get_multi_option_policy() == CLI::MultiOptionPolicy::TakeAll;
}

std::string display_name(const CLI::Option& opt, std::string_view typed) {
  if (typed.starts_with("--")) return std::string(typed);
  const auto& longs = opt.get_lnames();
  if (typed.size() == 2) {
    char c = typed[1];
    for (const auto& l : longs)
      if (!l.empty() && l.front() == c) return "--" + l;
  }
  return longs.empty() ? std::string(typed) : "--" + longs.front();
}

}  // namespace netpen::app::cli
