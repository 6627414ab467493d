// The run orchestration (see run.hpp). Order matters: outputs and the
// approver are opened first but start their threads only after the backend
// forked the sandbox, which needs a process without threads (checked); the
// engine starts (threads) while the sandbox sets itself up and gets the tap
// when it is ready; the command is launched only once the engine reads the
// tap, so it never sends a packet nobody reads. Any failure before launch()
// means the command never runs (fail closed).
#include "app/run.hpp"

#include <asio/ip/address.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "app/cli/publish_spec.hpp"
#include "app/confine/self_confinement.hpp"
#include "app/proxy_setup.hpp"
#include "app/unix_guard_run.hpp"
#include "app/interactive/terminal_approver.hpp"
#include "app/run_outputs.hpp"
#include "capture/link_tap.hpp"
#include "backends/common/host_port_listeners.hpp"
#include "backends/common/identity.hpp"
#include "backends/common/sysctl.hpp"
#include "backends/rootful/rootful_sandbox.hpp"
#include "backends/sandbox.hpp"
#include "net/common/log.hpp"
#include "net/common/sandbox_addresses.hpp"
#include "net/dns/hosts_file.hpp"
#include "net/dns/resolv_conf.hpp"
#include "net/events/event.hpp"
#include "net/events/text_util.hpp"
#include "net/relay/data_path.hpp"

namespace netpen::app {
namespace {

std::string read_file_or_empty(const char* path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A failure before the command ran. Code "usage" is the user's input found
// wrong only now (say, --iface naming no interface): exit 2, as for flags.
int report(const error& e) {
  if (e.code == "usage") {
    log::error("{}", e.message);
    return 2;
  }
  log::error("{} [{}]", e.message, e.code);
  return 1;
}

// The relay holds one host socket per flow; the default soft limit (often
// 1024) would cap a connection-heavy command long before the hard limit.
void raise_fd_limit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }
}

// Whether the host has a route toward the wider network for a family: a
// UDP connect() to a documentation address is a route lookup and sends
// nothing. Without one the tree gets no default route of that family, so
// its own kernel fails at once (ENETUNREACH) instead of waiting on replies.
bool host_has_default_route(bool v6) {
  const int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(9);
    ::inet_pton(AF_INET6, "2001:db8::1", &a->sin6_addr);
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(9);
    ::inet_pton(AF_INET, "192.0.2.1", &a->sin_addr);
    len = sizeof *a;
  }
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0;
  ::close(fd);
  return ok;
}

// Under sudo the run's files belong to the invoking user, not root.
void give_outputs_to(const run_config& cfg, const backends::command_identity& who) {
  std::vector<std::string> paths;
  if (cfg.flow_log_path) paths.push_back(*cfg.flow_log_path);
  if (cfg.capture_path)
    for (auto& p : capture::tree_capture::paths_for(*cfg.capture_path, run_outputs::capture_point_of(cfg.capture_at)))
      paths.push_back(p);
  for (const auto& p : paths)
    if (p != "-" && ::chown(p.c_str(), who.uid, who.gid) != 0)
      log::warn("cannot give {} to {}: {}", p, who.user, std::strerror(errno));
}

struct prepared_run {
  backends::sandbox_spec spec;
  relay::data_path_options relay;
};

// The run's policy, or nullopt when no policy flag was given (everything may leave).
std::optional<policy::policy_config> policy_config_of(const run_config& cfg) {
  if (!cfg.offline && !cfg.block_private && !cfg.block_metadata && cfg.allow.empty() && cfg.deny.empty() &&
      !cfg.default_policy_choice && !cfg.interactive)
    return std::nullopt;
  policy::policy_config pc;
  pc.offline = cfg.offline;
  pc.block_private = cfg.block_private;
  pc.block_metadata = cfg.block_metadata;
  pc.allow = cfg.allow;
  pc.deny = cfg.deny;
  if (cfg.default_policy_choice) pc.default_allow = *cfg.default_policy_choice == default_policy::allow;
  pc.interactive = cfg.interactive;
  return pc;
}

// --host-port's ranges as the set the sandbox and the relay serve.
relay::host_port_set host_ports_of(const run_config& cfg) {
  std::vector<relay::host_port> ports;
  for (const auto& r : cfg.host_ports)
    for (unsigned port = r.first; port <= r.last; ++port)
      ports.push_back(relay::host_port{r.udp, static_cast<std::uint16_t>(port)});
  return relay::host_port_set(std::move(ports));
}

result<prepared_run> prepare(const run_config& cfg) {
  prepared_run p;
  p.spec.argv = cfg.command;
  p.spec.host_ports = host_ports_of(cfg);
  p.spec.wait_all = cfg.wait_all;
  // Rootless: the command runs as you, with no capabilities, unless
  // --map-root (uid 0 with capabilities over the sandbox's namespaces).
  // --root drops to the invoking user its own way (identity).
  const bool rootless = cfg.backend != backend_kind::rootful;
  p.spec.keep_uid = rootless && !cfg.map_root;
  p.spec.least_privilege = rootless && !cfg.map_root;
  p.spec.unix_guard = cfg.block_unix;
  p.relay.services.host_ports = p.spec.host_ports;
  p.spec.ipv4_route = host_has_default_route(false);
  p.spec.ipv6_route = host_has_default_route(true);
  p.relay.engine.udp.unreplied = std::chrono::seconds(cfg.udp_timeout_s);
  p.relay.engine.udp.replied = std::chrono::seconds(cfg.udp_stream_timeout_s);

  const auto host_resolv = dns::parse_resolv_conf(read_file_or_empty("/etc/resolv.conf"));
  if (cfg.dns) {
    p.relay.services.dns_upstreams.push_back({asio::ip::make_address(cfg.dns->address), cfg.dns->port});
  } else {
    p.relay.services.dns_upstreams = host_resolv.nameservers;
    if (p.relay.services.dns_upstreams.empty())
      return fail("no-resolver", "the host's /etc/resolv.conf names no nameserver; give one with --dns IP");
  }
  const std::array<asio::ip::address, 2> gateways{asio::ip::make_address(std::string(sandbox::gateway_ipv4)),
                                                  asio::ip::make_address(std::string(sandbox::gateway_ipv6))};
  p.spec.resolv_conf = dns::render_resolv_conf(gateways, host_resolv);

  if (cfg.proxy) {
    auto proxy = make_proxy_config(cfg);
    if (!proxy) return unexpected<error>(proxy.error());
    p.relay.services.proxy = std::move(*proxy);
    p.relay.services.proxy_only = cfg.proxy_only;
  }

  if (auto pc = policy_config_of(cfg)) p.relay.services.policy = std::make_shared<policy::policy>(std::move(*pc));

  if (cfg.hosts_file) {
    auto overlay = dns::parse_hosts(cfg.hosts_file_contents, *cfg.hosts_file);
    if (!overlay) return unexpected<error>(overlay.error());
    p.spec.hosts = dns::render_overlay(read_file_or_empty("/etc/hosts"), *overlay);
    p.relay.services.hosts_overlay = std::move(*overlay);
  }
  return p;
}

std::string upstream_list(const prepared_run& p, std::string_view separator) {
  std::string out;
  for (const auto& u : p.relay.services.dns_upstreams) out += (out.empty() ? "" : std::string(separator)) + dns::to_string(u);
  return out;
}

// Shell-quoted, so `sh -c 'a; b'` reads back as typed (the log also keeps the argv).
std::string command_text(const run_config& cfg) { return events::shell_quoted(cfg.command); }

// The capture's file(s) and, unless it is the default `child`, its point.
std::string capture_text(const run_config& cfg) {
  static constexpr std::array<std::string_view, 4> names{"child", "egress", "wire-egress", "both"};
  const auto at = names[static_cast<std::size_t>(cfg.capture_at)];
  const auto paths = capture::tree_capture::paths_for(*cfg.capture_path, run_outputs::capture_point_of(cfg.capture_at));
  std::string text = fmt::format("{}", fmt::join(paths, ", "));
  if (cfg.capture_at != capture_point::child) text += fmt::format(" ({})", at);
  return text;
}

// The policy in force, as the run's description lists it.
std::vector<std::string> policy_controls(const run_config& cfg) {
  std::vector<std::string> out;
  auto rules = [](const std::vector<policy_entry>& list) {
    std::vector<std::string> texts;
    for (const auto& r : list) texts.push_back(r.text);
    return fmt::format("{}", fmt::join(texts, ", "));
  };
  if (cfg.offline) out.emplace_back("offline");
  if (cfg.block_private) out.emplace_back("block-private");
  if (cfg.block_metadata) out.emplace_back("block-metadata");
  if (!cfg.allow.empty()) out.push_back("allow " + rules(cfg.allow));
  if (!cfg.deny.empty()) out.push_back("deny " + rules(cfg.deny));
  if (cfg.default_policy_choice)
    out.push_back(std::string("default ") + (*cfg.default_policy_choice == default_policy::allow ? "allow" : "deny"));
  else if (!cfg.allow.empty())
    out.emplace_back("default deny");
  if (cfg.interactive) out.push_back(fmt::format("interactive (denied after {} s)", cfg.prompt_timeout_s));
  if (cfg.fail_on_leak) out.emplace_back("fail-on-leak");
  return out;
}

// The run as the flow log, summary and capture describe it (no secrets).
events::run_info describe(const run_config& cfg, const prepared_run& p) {
  events::run_info info;
  info.netpen_version = NETPEN_VERSION;
  info.backend = cfg.backend == backend_kind::rootful ? "rootful" : "rootless";
  info.command = command_text(cfg);
  info.argv = cfg.command;
  if (cfg.dns) info.controls.push_back("dns " + upstream_list(p, ","));  // only when --dns chose it
  if (cfg.hosts_file) info.controls.push_back("hosts-file " + *cfg.hosts_file);
  if (p.relay.services.proxy) info.controls.push_back("proxy " + proxy::display(*p.relay.services.proxy));
  if (cfg.proxy_only) info.controls.push_back("proxy-only");
  if (!p.spec.host_ports.empty()) info.controls.push_back("host-port " + relay::to_text(p.spec.host_ports));
  for (auto& c : policy_controls(cfg)) info.controls.push_back(std::move(c));
  for (const auto& pub : cfg.publish) info.controls.push_back("publish " + cli::publish_text(pub));
  if (cfg.capture_path) info.capture = capture_text(cfg);
  return info;
}

// What the rootful backend needs from the run's flags (the same for the
// dry run's plan and the run itself; the capture's group comes later).
// Whether netpen watches single flows (their events, processes, claims).
bool observes(const run_config& cfg) {
  return cfg.analyse || cfg.flow_log_path || cfg.summary || cfg.capture_path || cfg.interactive ||
         cfg.learn_path || log::debug_enabled();
}

backends::rootful::rootful_options rootful_options_of(const run_config& cfg, const prepared_run& p) {
  backends::rootful::rootful_options o;
  o.command = command_text(cfg);
  o.proxy_mode = p.relay.services.proxy.has_value();
  o.claim_mode = p.relay.services.policy && p.relay.services.policy->judges_claimed_names();
  o.iface = cfg.egress_iface;
  for (const auto& pub : cfg.publish) o.published.push_back({pub.sandbox_port, pub.udp});
  o.copy_first_bytes = observes(cfg);
  return o;
}

void print_plan(const run_config& cfg, const prepared_run& p, const backends::rootful::network_plan* rootful) {
  fmt::print("netpen dry run (nothing is set up)\n");
  if (rootful != nullptr) {
    const auto& a = rootful->addresses;
    fmt::print("  backend:     rootful (net, mount and pid namespaces made as root; the kernel forwards)\n");
    fmt::print("  run:         id {}, recorded under /run/netpen/{}\n", a.id, a.id);
    fmt::print("  link:        veth {} (host, gateway {}/{}{}) <-> eth0 in the tree (child {}/{}{})\n", a.veth,
               a.gateway4, a.prefix4, rootful->ipv6 ? fmt::format(", {}/{}", a.gateway6, a.prefix6) : "", a.child4,
               a.prefix4, rootful->ipv6 ? fmt::format(", {}/{}", a.child6, a.prefix6) : "");
    // As the run decides once the veth exists: IPv6 forwarding per interface
    // where the kernel has force_forwarding (6.17+), else the global switch.
    const bool per_interface = backends::sysctl_exists("net/ipv6/conf/default/force_forwarding");
    const std::string ipv6_forwarding =
        per_interface ? fmt::format("net.ipv6.conf.{}.force_forwarding=1", a.veth) : "net.ipv6.conf.all.forwarding=1";
    fmt::print("  sysctls:     net.ipv4.conf.{}.forwarding=1{}, and each uplink's forwarding where it is off "
               "(restored afterwards)\n",
               a.veth, rootful->ipv6 ? ", " + ipv6_forwarding : "");
    fmt::print("  run as:      {}\n", cfg.run_as_root ? "root (--run-as-root)" : "the invoking user (SUDO_UID/SUDO_GID)");
    if (const auto& t = rootful->proxy_routing; t.table != 0)
      fmt::print("  routing:     fwmark {:#x} lookup {} (priority {}): local default route on lo, {}\n", t.table,
                 t.table, t.priority, rootful->ipv6 ? "IPv4 and IPv6" : "IPv4");
    if (const auto& t = rootful->iface_routing; t.table != 0) {
      std::string routes;
      for (const auto& r : rootful->iface_routes) {
        char text[64] = "";
        if (!r.gateway.empty()) ::inet_ntop(r.family, r.gateway.data(), text, sizeof text);
        routes += fmt::format("{}default {}dev {}", routes.empty() ? "" : ", ",
                              r.gateway.empty() ? std::string() : fmt::format("via {} ", text), *cfg.egress_iface);
      }
      fmt::print("  egress:      only through {}: fwmark {:#x} lookup {} (priority {}): {}\n", *cfg.egress_iface,
                 t.table, t.table, t.priority, routes);
    }
    fmt::print("  host table:\n{}", rootful->host_script);
    fmt::print("  tree table:\n{}", rootful->child_script);
  } else {
    fmt::print("  backend:     rootless (user, net, mount and pid namespaces; {} via /dev/net/tun)\n", sandbox::tap_name);
    fmt::print("  link:        {} mtu {}: child {}/{} and {}/{}, gateway {} and {}\n", sandbox::tap_name,
               sandbox::tap_mtu, sandbox::child_ipv4, sandbox::ipv4_prefix, sandbox::child_ipv6, sandbox::ipv6_prefix,
               sandbox::gateway_ipv4, sandbox::gateway_ipv6);
  }
  fmt::print("  dns:         forced to the gateway; forwarded to {}\n", upstream_list(p, ", "));
  if (p.relay.services.proxy) {
    const auto& px = *p.relay.services.proxy;
    std::string addrs;
    for (const auto& ep : px.endpoints) addrs += (addrs.empty() ? "" : ", ") + ep.address().to_string();
    fmt::print("  proxy:       TCP through {} ({}){}\n", proxy::display(px), addrs,
               cfg.proxy_only ? "; nothing else leaves (--proxy-only)" : "");
    if (cfg.proxy_only || px.kind == proxy::scheme::socks5h)
      fmt::print("  names:       answered from 198.18.0.0/15 and resolved by the proxy\n");
  }
  if (!p.spec.host_ports.empty())
    fmt::print("  host ports:  {} of the host's loopback, at 127.0.0.1, [::1] and the gateway inside; "
               "not judged by the policy\n",
               relay::to_text(p.spec.host_ports));
  fmt::print("  hosts:       {}\n", cfg.hosts_file ? "overlay from " + *cfg.hosts_file : std::string("host's /etc/hosts"));
  const auto policy = policy_controls(cfg);
  fmt::print("  policy:      {}\n", policy.empty() ? std::string("none (everything may leave)") : fmt::format("{}", fmt::join(policy, "; ")));
  for (const auto& pub : cfg.publish)
    fmt::print("  publish:     {} (inbound: the server sees the gateway; the policy does not apply)\n",
               cli::publish_text(pub));
  if (cfg.capture_path) fmt::print("  capture:     {} (pcapng)\n", capture_text(cfg));
  if (cfg.flow_log_path) fmt::print("  flow log:    {} (JSON Lines)\n", *cfg.flow_log_path);
  if (cfg.summary) fmt::print("  summary:     on stderr at the end ({})\n",
                              cfg.summary_format == output_format::json ? "json" : "text");
  if (cfg.wait_all) fmt::print("  wait:        for every process of the tree (--wait-all)\n");
  if (cfg.learn_path)
    fmt::print("  learn:       {} (a profile of what the run reached, written at the end)\n", *cfg.learn_path);
  fmt::print("  command:     {}\n", command_text(cfg));
}

std::vector<relay::published_port> published_ports_of(const run_config& cfg) {
  std::vector<relay::published_port> out;
  for (const auto& pub : cfg.publish)
    out.push_back({asio::ip::make_address(pub.host_address), pub.host_port, pub.sandbox_port, pub.udp});
  return out;
}

// The sandbox of the chosen backend, with what the run needs of --root's.
struct built_sandbox {
  std::unique_ptr<backends::sandbox> sandbox;
  backends::rootful::rootful_sandbox* rootful = nullptr;  // --root only
  std::unique_ptr<capture::link_tap> link_capture;        // --root: the child capture point is the veth
};

int dry_run(const run_config& cfg, const prepared_run& p) {
  std::optional<backends::rootful::network_plan> plan;
  if (cfg.backend == backend_kind::rootful) {
    auto planned = backends::rootful::plan_rootful(p.spec, rootful_options_of(cfg, p));
    if (!planned) return report(planned.error());
    plan = std::move(*planned);
  }
  print_plan(cfg, p, plan ? &*plan : nullptr);
  return 0;
}

// The backend: rootless (a tap the engine reads) or rootful (the kernel
// forwards; the gate judges and observes through netfilter sockets).
result<built_sandbox> build_sandbox(const run_config& cfg, prepared_run& p, run_outputs& outputs) {
  built_sandbox b;
  if (cfg.backend != backend_kind::rootful) {
    p.spec.socket_helper = !cfg.publish.empty();  // TCP and UDP both fall back to the sandbox's loopback
    auto made = backends::make_rootless_sandbox(p.spec);
    if (!made) return unexpected(made.error());
    b.sandbox = std::move(*made);
    return b;
  }
  if (!cfg.run_as_root) {
    auto who = backends::invoking_user();
    if (!who) return unexpected(who.error());
    p.spec.identity = *who;
    if (*who) give_outputs_to(cfg, **who);
  }
  auto options = rootful_options_of(cfg, p);
  options.log_group = outputs.capture_log_group();
  auto made = backends::rootful::make_rootful_sandbox(p.spec, options);
  if (!made) return unexpected(made.error());
  b.rootful = made->get();
  b.sandbox = std::move(*made);
  const auto& addresses = b.rootful->plan().addresses;
  outputs.capture_tree({addresses.child4, addresses.child6});
  if (auto* child = outputs.capture_child()) {
    auto tap = capture::link_tap::open(addresses.veth, *child);
    if (!tap) return unexpected(tap.error());
    b.link_capture = std::move(*tap);
    log::debug("capturing the tree's frames on {}", addresses.veth);
  }
  return b;
}

// --host-port: the listeners the sandbox opened at its 127.0.0.1 and [::1],
// and under --root the gateway's own, on the host at the veth's addresses
// and bound to the veth (only the tree reaches them), go to the relay.
result<void> serve_host_ports(const prepared_run& p, built_sandbox& b, relay::data_path& relay) {
  auto listeners = b.sandbox->take_host_port_listeners();
  if (p.spec.host_ports.empty()) return {};
  if (b.rootful != nullptr) {
    const auto& plan = b.rootful->plan();
    std::vector<std::string> gateways{plan.addresses.gateway4};
    if (plan.ipv6) gateways.push_back(plan.addresses.gateway6);
    auto on_gateway = backends::open_host_port_listeners(p.spec.host_ports.at_gateway(), gateways, "on the gateway",
                                                         false, plan.addresses.veth);
    if (!on_gateway) return unexpected(on_gateway.error());
    for (auto& fd : *on_gateway) listeners.push_back(std::move(fd));
  }
  std::vector<int> fds;
  for (auto& fd : listeners) fds.push_back(fd.release());
  log::debug("--host-port: serving {} listeners for {}", fds.size(), relay::to_text(p.spec.host_ports));
  return relay.serve_host_ports(std::move(fds));
}

// netpen's filter (app/confine/, compiled at build time), taken while the
// sandbox sets itself up.
result<confine::prepared_filter> prepare_confinement(const run_config& cfg, const built_sandbox& b) {
  confine::confinement_needs needs;
  needs.tree_namespace_sockets = b.rootful != nullptr && !cfg.publish.empty();
  return confine::prepare(needs);
}

// netpen confines itself: the sandbox is up, the relay's threads run,
// nothing more is set up; the tear-down works under the filter.
result<void> confine_self(const confine::prepared_filter& filter, const built_sandbox& b) {
  if (auto confined = confine::install(filter, b.sandbox->init_pid()); !confined) return confined;
  confine::test_forbidden_call_if_asked();
  return {};
}

// A persistent sandbox once launched: the hooks publish it, netpen confines
// itself, and it serves exec requests until it is destroyed; then its init
// is reaped.
result<void> serve_persistent(const run_config& cfg, built_sandbox& b, persistent_hooks& hooks) {
  persistent_hooks::ready_info info;
  info.init_pid = b.sandbox->init_pid();
  info.backend = cfg.backend == backend_kind::rootful ? "rootful" : "rootless";
  const auto policy = policy_controls(cfg);
  info.policy = policy.empty() ? std::string("none") : fmt::format("{}", fmt::join(policy, "; "));
  if (b.rootful != nullptr) info.rootful_run = b.rootful->plan().addresses.id;
  if (auto ok = hooks.ready(*b.sandbox, info); !ok) return ok;
  auto filter = prepare_confinement(cfg, b);
  if (!filter) return unexpected(filter.error());
  if (auto confined = confine_self(*filter, b); !confined) return confined;
  hooks.serve(*b.sandbox);
  b.sandbox->wait();
  return {};
}

// --publish: the routes into the sandbox the relay's inbound flows take.
// Rootless: the engine's tap, then the sandbox's loopback with sockets from
// the init's helper; rootful: the tree's veth addresses, then its loopback.
relay::inbound_options inbound_options_of(const built_sandbox& b) {
  relay::inbound_options o;
  o.sandbox_socket = [sandbox = b.sandbox.get()](int family, int type) { return sandbox->socket_inside(family, type); };
  if (b.rootful == nullptr) return o;
  const auto& a = b.rootful->plan().addresses;
  o.tree4 = asio::ip::make_address(a.child4);
  if (b.rootful->plan().ipv6) o.tree6 = asio::ip::make_address(a.child6);
  return o;
}

// The relay serves the sandbox while the command runs: the command's
// status (1 under --fail-on-leak when something was denied).
int serve_and_wait(const run_config& cfg, prepared_run& p, built_sandbox& b, run_outputs& outputs,
                   interactive::terminal_approver* approver, std::vector<relay::bound_port> published,
                   persistent_hooks* hooks) {
  p.relay.services.observe = observes(cfg);
  const std::string upstreams = upstream_list(p, ", ");  // before the relay takes p.relay
  relay::data_path relay(std::move(p.relay));  // after `outputs`: stops (and stops calling it) first
  relay.set_tree(b.sandbox->init_pid());
  if (auto started = relay.start(); !started) return report(started.error());
  auto fail = [&relay](const error& e) {
    relay.stop();
    return report(e);
  };
  // While the sandbox sets itself up (a persistent sandbox when it serves).
  auto filter = hooks == nullptr ? prepare_confinement(cfg, b) : result<confine::prepared_filter>{};
  if (!filter) return fail(filter.error());
  if (auto ready = b.sandbox->wait_ready(); !ready) return fail(ready.error());
  if (b.rootful != nullptr) {
    if (auto attached = relay.attach_kernel_path(b.rootful->take_kernel_path()); !attached)
      return fail(attached.error());
  } else {
    relay.attach_tap(b.sandbox->release_link_fd());  // the engine owns the tap from here
  }
  if (auto served = serve_host_ports(p, b, relay); !served) return fail(served.error());
  relay.publish(std::move(published), inbound_options_of(b));
  if (hooks == nullptr) {  // a persistent sandbox confines itself once it serves (serve_persistent)
    if (auto confined = confine_self(*filter, b); !confined) return fail(confined.error());
  }
  if (auto launched = b.sandbox->launch(); !launched) return fail(launched.error());
  auto unix_guard = start_unix_guard(cfg, *b.sandbox, relay);  // the tree's connects wait for it
  if (!unix_guard) return fail(unix_guard.error());
  const auto launched_at = std::chrono::steady_clock::now();
  const auto policy = policy_controls(cfg);
  log::info("{} sandbox ready; dns forwarded to {}; policy: {}; running: {}",
            b.rootful != nullptr ? "rootful" : "rootless", upstreams,
            policy.empty() ? std::string("none") : fmt::format("{}", fmt::join(policy, "; ")), command_text(cfg));
  int status = 0;
  if (hooks != nullptr) {
    if (auto served = serve_persistent(cfg, b, *hooks); !served) return fail(served.error());
  } else {
    status = b.sandbox->wait();
  }
  if (*unix_guard) (*unix_guard)->stop();  // before the relay: its refusals are published
  if (b.link_capture) b.link_capture->close();
  if (approver) approver->close();  // questions still out are denied: nothing is left waiting
  relay.stop();
  if (cfg.fail_on_leak && status == 0 && outputs.denied() > 0) {
    log::error("--fail-on-leak: {} attempt(s) to reach something the policy denies", outputs.denied());
    status = 1;
  }
  status = outputs.finish(status);  // 1 instead of 0 when the flow log or the capture is incomplete
  const auto st = relay.stats();
  if (hooks == nullptr)
    log::info("the tree ended after {:.3f} s, status {}: {} tcp and {} udp flows, {} dns queries, {} denied",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - launched_at).count(), status,
              st.tcp_flows, st.udp_flows, st.dns_udp_queries, outputs.denied());
  log::debug("relay: {} frames in ({} malformed, {} ignored), {} out ({} dropped), {} tcp flows ({} resets for "
             "unknown flows), {} udp flows ({} evicted, {} datagrams dropped, {} shed under a flood), {} dns queries",
             st.frames_in, st.frames_malformed, st.frames_ignored, st.frames_out, st.frames_out_dropped, st.tcp_flows,
             st.tcp_unknown_rst, st.udp_flows, st.udp_evicted, st.udp_dropped, st.datagrams_shed,
             st.dns_udp_queries);
  return status;
}

// A run, or with hooks a persistent sandbox's daemon.
int run_tree(const run_config& cfg, persistent_hooks* hooks) {
  if (cfg.capture_path && cfg.capture_at == capture_point::wire_egress && ::geteuid() != 0) {
    log::error("--capture-point wire-egress needs root: it reads the host's interfaces (AF_PACKET); "
               "'egress' shows the same flows without it");
    return 2;
  }
  if (cfg.proxy_password_in_argv)
    log::warn("a proxy password on the command line is visible to other users (ps); "
              "prefer NETPEN_PROXY_PASSWORD or --proxy-password-file");
  auto prepared = prepare(cfg);
  if (!prepared) return report(prepared.error());
  if (cfg.dry_run) return dry_run(cfg, *prepared);
  prepared->spec.persistent = hooks != nullptr;
  prepared->spec.map_host_ids = hooks != nullptr && hooks->map_host_ids;

  // --publish: every host port bound before anything runs (a taken port
  // stops the run here, the command never started).
  auto published = relay::bind_published_ports(published_ports_of(cfg));
  if (!published) return report(published.error());

  // Outputs first: a flow log or capture that cannot be written stops the
  // run before anything is set up.
  auto outputs = run_outputs::open(cfg, describe(cfg, *prepared));
  if (!outputs) return report(outputs.error());
  prepared->relay.services.on_event = [out = outputs->get()](const events::event& e) { out->on_event(e); };
  prepared->relay.services.on_claim = [out = outputs->get()](const events::event& e) { out->on_claim(e); };
  // --interactive: the terminal that asks, before anything is set up.
  std::unique_ptr<interactive::terminal_approver> approver;
  if (cfg.interactive && hooks != nullptr) {
    prepared->relay.services.approver = hooks->approver();  // a sandbox asks on its execs' terminals
  } else if (cfg.interactive) {
    auto opened = interactive::terminal_approver::open(std::chrono::seconds(cfg.prompt_timeout_s));
    if (!opened) {
      log::error("{}", opened.error().message);
      return 2;
    }
    approver = std::move(*opened);
    prepared->relay.services.approver = approver.get();
  }
  prepared->relay.engine.capture = (*outputs)->capture_child();
  prepared->relay.services.egress = (*outputs)->capture_egress();

  auto built = build_sandbox(cfg, *prepared, **outputs);
  if (!built) return report(built.error());

  // The sandbox is forked: threads are safe now. The outputs' and the
  // approver's threads first, then the relay while the sandbox configures
  // its network; then the relay gets its end.
  if (auto started = (*outputs)->start(); !started) return report(started.error());
  if (approver) {
    if (auto started = approver->start(); !started) return report(started.error());
  }
  raise_fd_limit();  // after the fork: the command keeps its own limit
  return serve_and_wait(cfg, *prepared, *built, **outputs, approver.get(), std::move(*published), hooks);
}

}  // namespace

int run_command(const run_config& cfg) { return run_tree(cfg, nullptr); }

int run_persistent(const run_config& cfg, persistent_hooks& hooks) { return run_tree(cfg, &hooks); }

}  // namespace netpen::app
