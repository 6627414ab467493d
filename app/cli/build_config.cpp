// From raw option values to a validated run_config: value syntax, files,
// conflicts between flags.
#include "app/cli/build_config.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <array>
#include <string_view>
#include <tuple>

#include "app/cli/policy_entry.hpp"
#include "app/cli/publish_spec.hpp"
#include "app/cli/validators.hpp"
#include "backends/common/unix_guard_logic.hpp"
#include "net/dns/hosts_file.hpp"

namespace netpen::app::cli {
namespace {

unexpected<error> conflict(std::string message) { return fail("usage", std::move(message)); }

std::string in_quotes(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string strip_newline(std::string s) {
  if (!s.empty() && s.back() == '\n') s.pop_back();
  if (!s.empty() && s.back() == '\r') s.pop_back();
  return s;
}

result<void> add_policy(std::vector<policy_entry>& out, std::string_view list_flag, const std::vector<std::string>& lists,
                        std::string_view file_flag, const std::vector<std::string>& files) {
  for (const auto& list : lists) {
    auto entries = parse_policy_list(list_flag, list);
    if (!entries) return unexpected<error>(entries.error());
    out.insert(out.end(), entries->begin(), entries->end());
  }
  for (const auto& path : files) {
    auto contents = read_file_for(file_flag, path);
    if (!contents) return unexpected<error>(contents.error());
    auto entries = parse_policy_file(file_flag, path, *contents);
    if (!entries) return unexpected<error>(entries.error());
    out.insert(out.end(), entries->begin(), entries->end());
  }
  return {};
}

// What the pieces of read_values share: the raw values, which flags were
// given, and how the user spelled each one.
struct flag_reader {
  const raw_options& raw;
  const CLI::App& app;
  const flag_names& shown;

  bool given(const char* flag) const { return app.count(flag) > 0; }
  std::string name(const std::string& canonical) const {
    auto it = shown.find(canonical);
    return it == shown.end() ? canonical : it->second;
  }
};

// --network-backend, --root, --run-as-root.
result<void> read_backend(const flag_reader& in, run_config& c) {
  const raw_options& raw = in.raw;
  if (in.given("--network-backend")) {
    if (raw.network_backend == "rootful") c.backend = backend_kind::rootful;
    else if (raw.network_backend != "rootless-internal")
      return bad_value("--network-backend", in_quotes(raw.network_backend) + " is not rootless-internal or rootful");
  }
  if (raw.root) c.backend = backend_kind::rootful;
  c.run_as_root = raw.run_as_root;
  c.map_root = raw.map_root;
  return {};
}

// --dns and --hosts-file (read and parsed now).
result<void> read_names(const flag_reader& in, run_config& c) {
  const raw_options& raw = in.raw;
  if (in.given("--dns")) {
    auto dns = parse_dns_endpoint("--dns", raw.dns);
    if (!dns) return unexpected<error>(dns.error());
    c.dns = *dns;
  }
  if (in.given("--hosts-file")) {
    auto contents = read_file_for("--hosts-file", raw.hosts_file);
    if (!contents) return unexpected<error>(contents.error());
    auto entries = dns::parse_hosts(*contents, raw.hosts_file);
    if (!entries) return bad_value("--hosts-file", entries.error().message);
    c.hosts_file = raw.hosts_file;
    c.hosts_file_contents = std::move(*contents);
  }
  return {};
}

// --proxy and its credentials (flags, file, NETPEN_PROXY_PASSWORD).
result<void> read_proxy(const flag_reader& in, run_config& c) {
  const raw_options& raw = in.raw;
  if (in.given("--proxy")) {
    auto proxy = parse_proxy_uri("--proxy", raw.proxy);
    if (!proxy) return unexpected<error>(proxy.error());
    c.proxy = *proxy;
    c.proxy_user = proxy->user;
    c.proxy_password = proxy->password;
  }
  if (in.given("--proxy-user")) {
    if (raw.proxy_user.empty()) return bad_value("--proxy-user", "empty user name");
    c.proxy_user = raw.proxy_user;
  }
  if (in.given("--proxy-password")) c.proxy_password = raw.proxy_password;
  if (in.given("--proxy-password-file")) {
    auto contents = read_file_for("--proxy-password-file", raw.proxy_password_file);
    if (!contents) return unexpected<error>(contents.error());
    c.proxy_password = strip_newline(std::move(*contents));
  }
  c.proxy_password_in_argv = in.given("--proxy-password") || (c.proxy && c.proxy->password);
  if (c.proxy && !c.proxy_password && c.proxy_user) {
    if (const char* env = std::getenv("NETPEN_PROXY_PASSWORD"); env != nullptr && *env != '\0')
      c.proxy_password = std::string(env);
  }
  c.proxy_insecure = raw.proxy_insecure;
  c.proxy_only = raw.proxy_only;
  return {};
}

// --output and --capture-point.
result<void> read_capture(const flag_reader& in, run_config& c) {
  const raw_options& raw = in.raw;
  if (in.given("--output")) {
    auto ok = check_output_path(in.name("--output"), raw.output);
    if (!ok) return unexpected<error>(ok.error());
    c.capture_path = raw.output;
  }
  if (in.given("--capture-point")) {
    static constexpr std::array<std::pair<std::string_view, capture_point>, 4> points{{
        {"child", capture_point::child},
        {"egress", capture_point::egress},
        {"wire-egress", capture_point::wire_egress},
        {"both", capture_point::both},
    }};
    auto it = std::ranges::find(points, std::string_view(raw.capture_point), &decltype(points)::value_type::first);
    if (it == points.end())
      return bad_value("--capture-point", in_quotes(raw.capture_point) + " is not child, egress, wire-egress or both");
    c.capture_at = it->second;
  }
  return {};
}

// The policy: --offline, --block-*, allow/deny lists and files, --default-policy,
// --interactive and its timeout, --fail-on-leak.
result<void> read_policy(const flag_reader& in, run_config& c) {
  const raw_options& raw = in.raw;
  c.offline = raw.offline;
  c.block_private = raw.block_private;
  c.block_metadata = raw.block_metadata;
  if (auto ok = add_policy(c.allow, "--allow", raw.allow, "--allow-file", raw.allow_file); !ok) return ok;
  if (auto ok = add_policy(c.deny, "--deny", raw.deny, "--deny-file", raw.deny_file); !ok) return ok;
  if (in.given("--default-policy")) {
    if (raw.default_policy == "allow") c.default_policy_choice = default_policy::allow;
    else if (raw.default_policy == "deny") c.default_policy_choice = default_policy::deny;
    else return bad_value("--default-policy", in_quotes(raw.default_policy) + " is not allow or deny");
  }
  c.interactive = raw.interactive;
  if (in.given("--prompt-timeout")) {
    auto secs = parse_positive_seconds("--prompt-timeout", raw.prompt_timeout);
    if (!secs) return unexpected<error>(secs.error());
    c.prompt_timeout_s = *secs;
  }
  c.fail_on_leak = raw.fail_on_leak;
  return {};
}

// --udp-timeout, --udp-stream-timeout.
result<void> read_udp_timeouts(const flag_reader& in, run_config& c) {
  const raw_options& raw = in.raw;
  for (auto [flag, text, out] : {std::tuple{"--udp-timeout", &raw.udp_timeout, &c.udp_timeout_s},
                                 std::tuple{"--udp-stream-timeout", &raw.udp_stream_timeout, &c.udp_stream_timeout_s}}) {
    if (!in.given(flag)) continue;
    auto secs = parse_positive_seconds(flag, *text);
    if (!secs) return unexpected<error>(secs.error());
    *out = *secs;
  }
  return {};
}

// --iface, --host-port, --publish.
result<void> read_egress(const flag_reader& in, run_config& c) {
  const raw_options& raw = in.raw;
  if (in.given("--iface")) {
    if (raw.iface.empty() || raw.iface.size() > 15 || raw.iface.find_first_of("/ \t:") != std::string::npos ||
        raw.iface == "." || raw.iface == "..")
      return bad_value("--iface", in_quotes(raw.iface) + " is not a network interface name");
    c.egress_iface = raw.iface;
  }
  for (const auto& ports : raw.host_port) {
    auto ranges = parse_port_list("--host-port", ports);
    if (!ranges) return unexpected<error>(ranges.error());
    c.host_ports.insert(c.host_ports.end(), ranges->begin(), ranges->end());
  }
  std::size_t host_port_count = 0;
  for (const auto& r : c.host_ports) host_port_count += static_cast<std::size_t>(r.last - r.first) + 1;
  if (host_port_count > max_host_ports)
    return bad_value("--host-port", std::to_string(host_port_count) + " ports in all; at most " +
                                        std::to_string(max_host_ports) + " may be opened");
  for (const auto& spec : raw.publish) {
    auto p = parse_publish("--publish", spec);
    if (!p) return unexpected<error>(p.error());
    c.publish.push_back(*p);
  }
  return {};
}

// What the run reports: --analyse, --log, --summary[-format], -q, -v, --dry-run.
result<void> read_reporting(const flag_reader& in, run_config& c) {
  const raw_options& raw = in.raw;
  c.analyse = raw.analyse;
  if (in.given("--log")) {
    auto ok = check_output_path(in.name("--log"), raw.log);
    if (!ok) return unexpected<error>(ok.error());
    c.flow_log_path = raw.log;
  }
  c.summary = raw.summary;
  if (in.given("--summary-format")) {
    if (raw.summary_format == "text") c.summary_format = output_format::text;
    else if (raw.summary_format == "json") c.summary_format = output_format::json;
    else return bad_value("--summary-format", in_quotes(raw.summary_format) + " is not text or json");
    c.summary = true;
  }
  c.quiet = raw.quiet;
  c.verbose = raw.verbose;
  c.dry_run = raw.dry_run;
  c.wait_all = raw.wait_all;
  if (in.given("--learn")) {
    auto ok = check_output_path("--learn", raw.learn);
    if (!ok) return unexpected<error>(ok.error());
    c.learn_path = raw.learn;
  }
  return {};
}

// Value syntax and files; no cross-flag checks. The pieces run in flag
// order, so the first bad value is the one reported.
result<void> read_values(const raw_options& raw, const CLI::App& app, const flag_names& shown, run_config& c) {
  const flag_reader in{raw, app, shown};
  for (auto read : {read_backend, read_names, read_proxy, read_capture, read_policy, read_udp_timeouts, read_egress,
                    read_reporting})
    if (auto ok = read(in, c); !ok) return ok;
  return {};
}

result<void> check_conflicts(const raw_options& raw, const CLI::App& app, const run_config& c) {
  auto given = [&](const char* name) { return app.count(name) > 0; };
  if (c.quiet && c.verbose) return conflict("--quiet conflicts with --verbose");
  if (raw.root && given("--network-backend") && raw.network_backend != "rootful")
    return conflict("--root conflicts with --network-backend " + raw.network_backend);
  if (c.backend != backend_kind::rootful) {
    if (c.run_as_root) return conflict("--run-as-root requires --root");
  } else {
    if (c.map_root) return conflict("--map-root is for the rootless backend (--root runs the command as you; --run-as-root as root)");
  }
  if (c.backend != backend_kind::rootful) {
    if (c.egress_iface) return conflict("--iface requires --root");
  }
  if (!c.proxy) {
    for (const char* name : {"--proxy-user", "--proxy-password", "--proxy-password-file", "--proxy-insecure",
                             "--proxy-only"})
      if (given(name)) return conflict(std::string(name) + " requires --proxy");
  } else {
    if (given("--proxy-user") && c.proxy->user)
      return conflict("--proxy-user conflicts with the user name in --proxy");
    if ((given("--proxy-password") || given("--proxy-password-file")) && c.proxy->password)
      return conflict(std::string(given("--proxy-password") ? "--proxy-password" : "--proxy-password-file") +
                      " conflicts with the password in --proxy");
    if (given("--proxy-password") && given("--proxy-password-file"))
      return conflict("--proxy-password conflicts with --proxy-password-file");
    if (c.proxy_password && !c.proxy_user)
      return conflict("a proxy password needs a user name (--proxy-user or USER@ in --proxy)");
    if (c.proxy_insecure && c.proxy->scheme != proxy_scheme::https)
      return conflict("--proxy-insecure requires an https:// proxy");
    const bool socks = c.proxy->scheme == proxy_scheme::socks5 || c.proxy->scheme == proxy_scheme::socks5h;
    if (socks && c.proxy_user && c.proxy_user->size() > 255)
      return bad_value("--proxy-user", "a SOCKS5 user name is at most 255 bytes");
    if (socks && c.proxy_password && c.proxy_password->size() > 255)
      return bad_value("--proxy-password", "a SOCKS5 password is at most 255 bytes");
  }
  if (given("--capture-point") && !c.capture_path) return conflict("--capture-point requires --output");
  if (c.offline) {
    if (!c.allow.empty()) return conflict(std::string(given("--allow") ? "--allow" : "--allow-file") + " conflicts with --offline");
    if (c.proxy) return conflict("--proxy conflicts with --offline");
    if (c.interactive) return conflict("--interactive conflicts with --offline");
    if (c.default_policy_choice == default_policy::allow) return conflict("--default-policy allow conflicts with --offline");
  }
  if (c.interactive && c.default_policy_choice == default_policy::allow)
    return conflict("--interactive conflicts with --default-policy allow");
  if (given("--prompt-timeout") && !c.interactive) return conflict("--prompt-timeout requires --interactive");
  for (std::size_t i = 0; i < c.publish.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (c.publish[i].host_port == c.publish[j].host_port && c.publish[i].udp == c.publish[j].udp)
        return conflict("--publish: host port " + std::to_string(c.publish[i].host_port) +
                        (c.publish[i].udp ? "/udp" : "") + " is published twice");
  return {};
}

// --block-unix, on by itself under --offline and every default-deny policy
// (allow rules without --default-policy allow, --default-policy deny,
// --interactive, --proxy-only); --allow-unix made absolute against the cwd.
result<void> read_unix_guard(const raw_options& raw, run_config& c) {
  const bool default_deny =
      c.offline || c.interactive || c.proxy_only ||
      (c.default_policy_choice ? *c.default_policy_choice == default_policy::deny : !c.allow.empty());
  c.block_unix = raw.block_unix || default_deny;
  if (!raw.allow_unix.empty() && !c.block_unix)
    return conflict("--allow-unix requires --block-unix, --offline or a default-deny policy "
                    "(without them the tree may reach any Unix socket)");
  std::string cwd;
  if (auto* here = ::getcwd(nullptr, 0)) {
    cwd = here;
    std::free(here);
  }
  for (const auto& path : raw.allow_unix) {
    if (!path.starts_with('/') && cwd.empty()) return bad_value("--allow-unix", "cannot read the current directory");
    auto absolute = backends::unix_guard::absolute_normalized(path, cwd);
    if (!absolute) return bad_value("--allow-unix", "empty path");
    c.allow_unix.push_back(*absolute);
  }
  return {};
}

}  // namespace

result<run_config> build_run_config(const raw_options& raw, const CLI::App& app, const flag_names& shown) {
  run_config config;
  if (auto ok = read_values(raw, app, shown, config); !ok) return unexpected<error>(ok.error());
  if (auto ok = check_conflicts(raw, app, config); !ok) return unexpected<error>(ok.error());
  if (auto ok = read_unix_guard(raw, config); !ok) return unexpected<error>(ok.error());
  return config;
}

}  // namespace netpen::app::cli
