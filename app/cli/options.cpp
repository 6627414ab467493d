// The CLI11 definition of every `netpen [OPTIONS]` flag of cli.md.
#include "app/cli/options.hpp"

#include "app/cli/help_text.hpp"

namespace netpen::app::cli {

std::unique_ptr<CLI::App> make_options_app(raw_options& raw) {
  auto app = std::make_unique<CLI::App>("netpen: run one command tree in its own network sandbox", "netpen");
  app->set_help_flag();
  app->formatter(make_help_formatter());
  app->footer(help_footer());
  app->option_defaults()->always_capture_default(false);

  auto flag = [&](const char* names, bool& target, const char* group, const char* desc) {
    app->add_flag(names, target, desc)->group(group);
  };
  auto value = [&](const char* names, std::string& target, const char* type, const char* group, const char* desc) {
    app->add_option(names, target, desc)->type_name(type)->group(group);
  };
  auto many = [&](const char* names, std::vector<std::string>& target, const char* type, const char* group,
                  const char* desc) {
    app->add_option(names, target, desc)->type_name(type)->group(group)->expected(1)->multi_option_policy(
        CLI::MultiOptionPolicy::TakeAll);
  };

  const char* backend = "Backend";
  flag("--root", raw.root, backend, "rootful backend (veth, routing, nftables, TPROXY)");
  value("--network-backend", raw.network_backend, "rootless-internal|rootful", backend,
        "same choice, long form (default rootless-internal)");
  flag("--run-as-root", raw.run_as_root, backend,
       "rootful: run the command as root instead of the invoking user (SUDO_UID/SUDO_GID)");

  const char* dns = "DNS and names";
  value("-d,--dns", raw.dns, "IP", dns,
        "force all DNS of the tree to this IPv4/IPv6 resolver (IP, IP:port, [v6]:port)");
  value("--hosts-file", raw.hosts_file, "PATH", dns, "overlay an /etc/hosts-format file for the tree");

  const char* proxy = "Proxy";
  value("-p,--proxy", raw.proxy, "URI", proxy,
        "http://, https://, socks5://, socks5h:// host:port; user:pass@ in the URI allowed");
  value("-U,--proxy-user", raw.proxy_user, "USER", proxy, "proxy user name");
  value("-P,--proxy-password", raw.proxy_password, "PASS", proxy,
        "proxy password (also NETPEN_PROXY_PASSWORD, or --proxy-password-file)");
  value("--proxy-password-file", raw.proxy_password_file, "PATH", proxy, "read the proxy password from PATH");
  flag("--proxy-insecure", raw.proxy_insecure, proxy,
       "https proxy: skip certificate chain trust, still check the host name");
  flag("--proxy-only", raw.proxy_only, proxy, "nothing leaves except through the proxy (UDP, ICMP, direct DNS denied)");

  const char* capture = "Capture";
  value("-o,--output,-c,--capture", raw.output, "PATH", capture, "write this tree's packets as pcapng");
  value("-C,--capture-point", raw.capture_point, "child|egress|wire-egress|both", capture,
        "where to capture (default child)");

  const char* policy = "Policy";
  flag("--offline", raw.offline, policy, "no traffic leaves at all (DNS included)");
  flag("--block-private", raw.block_private, policy,
       "deny RFC1918, CGNAT, loopback, link-local, ULA destinations");
  flag("--block-metadata", raw.block_metadata, policy,
       "deny cloud metadata endpoints (169.254.169.254, fd00:ec2::254)");
  many("--allow", raw.allow, "LIST", policy,
       "repeatable, comma separated: example.com, *.example.com, 93.184.216.34, 10.0.0.0/8, 2001:db8::/32, "
       "each optionally :PORT ([v6]:PORT); any allow rule makes the default deny");
  many("--allow-file", raw.allow_file, "PATH", policy, "allow entries, one a line, # comments");
  many("--deny", raw.deny, "LIST", policy, "same syntax as --allow; deny wins over allow");
  many("--deny-file", raw.deny_file, "PATH", policy, "deny entries, one a line, # comments");
  value("--default-policy", raw.default_policy, "allow|deny", policy, "explicit default");
  flag("--interactive", raw.interactive, policy, "default deny; ask on the terminal for each new destination");
  value("--prompt-timeout", raw.prompt_timeout, "SECS", policy, "interactive: auto-deny after SECS (default 30)");
  flag("--fail-on-leak", raw.fail_on_leak, policy, "exit 1 if anything was denied while the command exited 0");

  const char* egress = "Egress and host access";
  value("-i,--iface", raw.iface, "NAME", egress, "rootful: force direct egress through this host interface");
  many("--host-port", raw.host_port, "PORTS", egress,
       "make these host loopback TCP ports (e.g. 8080,9000-9010) reachable inside the sandbox "
       "at the gateway address and 127.0.0.1");
  many("--publish", raw.publish, "[HOST_PORT:]PORT", egress,
       "make a server listening inside the sandbox on PORT reachable on the host's 127.0.0.1:HOST_PORT");

  const char* relay = "Relay";
  value("--udp-timeout", raw.udp_timeout, "SECS", relay,
        "a UDP flow that got no reply expires after SECS idle (default 30)");
  value("--udp-stream-timeout", raw.udp_stream_timeout, "SECS", relay,
        "a UDP flow that got replies expires after SECS idle (default 180)");

  const char* output = "Output";
  flag("--analyse", raw.analyse, output, "live event lines on stderr (DNS, TCP, UDP, ICMP; allowed/denied; process)");
  value("--log,--flow-log", raw.log, "PATH", output, "JSON Lines flow log (one event a line, schema_version)");
  flag("--summary", raw.summary, output, "run summary on stderr after the command ends");
  value("--summary-format", raw.summary_format, "text|json", output, "summary format (implies --summary)");
  flag("-q,--quiet", raw.quiet, output, "less netpen output");
  flag("-v,--verbose", raw.verbose, output, "more netpen output");
  flag("--dry-run", raw.dry_run, output, "print what would be set up, set up nothing");
  flag("-h,--help", raw.help, output, "print this help and exit");
  flag("-V,--version", raw.version, output, "print the version and exit");
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
