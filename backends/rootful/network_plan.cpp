// A rootful run's network plan from the host's facts (see network_plan.hpp).
#include "backends/rootful/network_plan.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace netpen::backends::rootful {
namespace {

constexpr std::uint16_t tree_queue = 0;          // NFQUEUE numbers are per netns
constexpr std::uint32_t deny_mark = 0x4e500000;  // "NP": a verdict's mark the tree's table rejects
constexpr std::uint16_t tree_first_bytes_group = 1;  // NFLOG groups are per netns too
// Proxy mode and claim mode: the engine's transparent listener port on the gateways (any
// port does: the gateway addresses are this run's own), and the bases of
// the per-run mark and routing table (plus the run's /30 slot, so that
// concurrent runs never share one).
constexpr std::uint16_t proxy_port = 1080;
constexpr std::uint32_t proxy_mark_base = 0x4e540000;  // "NT"
constexpr std::uint32_t proxy_rule_priority = 100;     // before the main table (32766)
constexpr std::uint32_t iface_mark_base = 0x4e490000;  // "NI"; --iface's mark and table, plus the slot
constexpr std::uint32_t iface_rule_priority = 101;

// The index of the run's /30 in 10.249.0.0/16 (0..16383).
std::uint32_t slot_of(const run_addresses& a) {
  in_addr child{};
  ::inet_pton(AF_INET, a.child4.c_str(), &child);
  return ((ntohl(child.s_addr) & 0xffffu) >> 2) & 0x3fffu;
}

// The text table minus its `queue` rule: nft's own queue expression may be
// missing from the kernel; append_queue_rule adds the equivalent.
std::string without_queue_rule(const std::string& script) {
  std::string out;
  std::size_t start = 0;
  while (start < script.size()) {
    auto end = script.find('\n', start);
    if (end == std::string::npos) end = script.size();
    const auto line = script.substr(start, end - start);
    if (line.find(" queue num ") == std::string::npos) out += line + "\n";
    start = end + 1;
  }
  return out;
}

bool is_netpen_link(const std::string& name) {
  return name.size() == 8 && name.starts_with("np") &&
         std::ranges::all_of(name.substr(2), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

// --iface: the interface's routes in the run's table. Errors are the
// user's (code "usage"): nothing is set up yet.
result<void> plan_iface(const std::string& name, const iface_facts& f, network_plan& p) {
  if (!valid_interface_name(name)) return fail("usage", fmt::format("--iface '{}' is not an interface name", name));
  if (f.index == 0) return fail("usage", fmt::format("--iface {}: no such interface on this host", name));
  if (name == "lo") return fail("usage", "--iface lo: the loopback interface cannot carry the tree's traffic");
  if (is_netpen_link(name)) return fail("usage", fmt::format("--iface {}: that is a netpen run's own link", name));
  if (!f.up) return fail("usage", fmt::format("--iface {} is down", name));
  p.iface_index = f.index;
  std::vector<int> families{AF_INET};
  if (p.ipv6) families.push_back(AF_INET6);
  for (int af : families) {
    network_plan::iface_route r{af, {}};
    for (const auto& d : f.main_default_routes)  // ordered by metric: the best one through the interface
      if (d.family == af && d.ifindex == f.index) {
        r.gateway = d.gateway;
        break;
      }
    p.iface_routes.push_back(std::move(r));
  }
  return {};
}

host_table_plan host_table_of(const run_addresses& a, const network_options& opts) {
  host_table_plan h;
  h.table = "netpen_" + a.id;
  h.veth = a.veth;
  h.child4 = a.child4;
  h.gateway4 = a.gateway4;
  if (opts.ipv6_route) {
    h.child6 = a.child6;
    h.gateway6 = a.gateway6;
  }
  h.log_group = opts.log_group;
  h.host_tcp_ports = opts.host_ports.at_gateway().of(false);
  h.host_udp_ports = opts.host_ports.at_gateway().of(true);
  return h;
}

}  // namespace

result<network_plan> plan_network(const host_facts& facts, const network_options& opts) {
  auto addrs = plan_addresses(make_run_id(facts.seed >> 8), facts.seed, facts.ipv4_in_use);
  if (!addrs) return unexpected(addrs.error());
  network_plan p;
  p.addresses = *addrs;
  p.ipv6 = opts.ipv6_route;
  p.host_table = host_table_of(*addrs, opts);
  auto& h = p.host_table;
  if (opts.iface) {
    if (auto r = plan_iface(*opts.iface, facts.iface, p); !r) return unexpected(r.error());
    h.iface = opts.iface;
    h.iface_mark = iface_mark_base | slot_of(*addrs);
    p.iface_routing = {h.iface_mark, iface_rule_priority};
  }
  if (opts.proxy_mode || opts.claim_mode) {  // the same TPROXY rule and routing for both
    h.tproxy_port = proxy_port;
    h.tproxy_mark = proxy_mark_base | slot_of(*addrs);
    p.proxy_routing = {h.tproxy_mark, proxy_rule_priority};
  }
  p.child_table.queue = tree_queue;
  p.child_table.deny_mark = deny_mark;
  p.child_table.gateway4 = addrs->gateway4;
  if (opts.ipv6_route) p.child_table.gateway6 = addrs->gateway6;
  p.child_table.published = opts.published;
  if (opts.copy_first_bytes) p.child_table.first_bytes_group = tree_first_bytes_group;
  auto host = host_table_script(h);
  if (!host) return unexpected(host.error());
  auto child = child_table_script(p.child_table);
  if (!child) return unexpected(child.error());
  p.host_script = std::move(*host);
  p.child_script = without_queue_rule(*child);
  return p;
}

}  // namespace netpen::backends::rootful
