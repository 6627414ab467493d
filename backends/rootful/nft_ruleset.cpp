// Builds the nft scripts of a rootful run (see nft_ruleset.hpp). Every value
// spliced into the text is validated first: names against a strict
// character set, addresses parsed and re-printed in canonical form, so no
// input can add nft syntax of its own.
#include "backends/rootful/nft_ruleset.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <iterator>
#include <vector>

namespace netpen::backends::rootful {
namespace {

unexpected<error> bad(std::string_view what) {
  return fail("nft-plan", fmt::format("invalid nftables plan: {}", what));
}

// Parses `text` as an address of `family` (AF_INET or AF_INET6) and returns
// its canonical text, or nullopt.
std::optional<std::string> canonical_address(int family, const std::string& text) {
  std::array<unsigned char, 16> raw{};
  if (::inet_pton(family, text.c_str(), raw.data()) != 1) return std::nullopt;
  std::array<char, INET6_ADDRSTRLEN> out{};
  if (::inet_ntop(family, raw.data(), out.data(), static_cast<socklen_t>(out.size())) == nullptr) return std::nullopt;
  return std::string(out.data());
}

std::string hex_mark(std::uint32_t mark) { return fmt::format("0x{:08x}", mark); }

// The validated, canonical values the host script is written from.
struct host_values {
  std::string table, veth, child4, gateway4;
  std::optional<std::string> child6, gateway6, iface;
};

result<host_values> validate(const host_table_plan& p) {
  if (!valid_table_name(p.table)) return bad(fmt::format("table name \"{}\"", p.table));
  if (!valid_interface_name(p.veth)) return bad(fmt::format("veth name \"{}\"", p.veth));
  host_values v;
  v.table = p.table;
  v.veth = p.veth;
  auto c4 = canonical_address(AF_INET, p.child4);
  auto g4 = canonical_address(AF_INET, p.gateway4);
  if (!c4) return bad("child4 is not an IPv4 address");
  if (!g4) return bad("gateway4 is not an IPv4 address");
  if (*c4 == *g4) return bad("child4 and gateway4 are the same address");
  v.child4 = *c4;
  v.gateway4 = *g4;
  if (p.child6.has_value() != p.gateway6.has_value())
    return bad("child6 and gateway6 must be given together");
  if (p.child6) {
    v.child6 = canonical_address(AF_INET6, *p.child6);
    v.gateway6 = canonical_address(AF_INET6, *p.gateway6);
    if (!v.child6) return bad("child6 is not an IPv6 address");
    if (!v.gateway6) return bad("gateway6 is not an IPv6 address");
    if (*v.child6 == *v.gateway6)
      return bad("child6 and gateway6 are the same address");
  }
  if (p.dns_port == 0) return bad("dns_port is 0");
  for (const auto* ports : {&p.host_tcp_ports, &p.host_udp_ports})
    if (std::ranges::find(*ports, std::uint16_t{0}) != ports->end()) return bad("a host port is 0");
  if (p.tproxy_port) {
    if (*p.tproxy_port == 0) return bad("tproxy_port is 0");
    if (p.tproxy_mark == 0) return bad("proxy mode needs a non-zero tproxy_mark");
  }
  if (p.iface) {
    if (!valid_interface_name(*p.iface))
      return bad(fmt::format("iface name \"{}\"", *p.iface));
    if (*p.iface == p.veth) return bad("iface is the run's own veth");
    if (p.iface_mark == 0) return bad("--iface needs a non-zero iface_mark");
    if (p.tproxy_port && p.iface_mark == p.tproxy_mark)
      return bad("iface_mark and tproxy_mark are the same");
    v.iface = p.iface;
  }
  return v;
}

// Appends one base chain with `policy accept` and the given rules.
void chain(std::string& out, std::string_view name, std::string_view type, std::string_view hook,
           std::string_view priority, const std::vector<std::string>& rules) {
  fmt::format_to(std::back_inserter(out), "\tchain {} {{\n\t\ttype {} hook {} priority {}; policy accept;\n", name,
                 type, hook, priority);
  for (const auto& r : rules) fmt::format_to(std::back_inserter(out), "\t\t{}\n", r);
  out += "\t}\n";
}

// `add` + `delete` + definition: one transaction that leaves exactly this table.
std::string table_header(std::string_view table) {
  return fmt::format("add table inet {0}\ndelete table inet {0}\ntable inet {0} {{\n", table);
}

std::string from_veth(const host_values& v) { return fmt::format("iifname \"{}\"", v.veth); }

// The tree's DNS, to any address, goes to netpen's forwarder.
std::vector<std::string> dns_redirect_rules(const host_values& v, std::uint16_t dns_port) {
  const auto in = from_veth(v);
  std::vector<std::string> rules{fmt::format(
      "{} meta nfproto ipv4 meta l4proto {{ tcp, udp }} th dport 53 dnat ip to {}:{}", in, v.gateway4, dns_port)};
  if (v.gateway6)
    rules.push_back(fmt::format("{} meta nfproto ipv6 meta l4proto {{ tcp, udp }} th dport 53 dnat ip6 to [{}]:{}",
                                in, *v.gateway6, dns_port));
  return rules;
}

std::vector<std::string> masquerade_rules(const host_values& v) {
  std::vector<std::string> rules{fmt::format("ip saddr {} oifname != \"{}\" masquerade", v.child4, v.veth)};
  if (v.child6) rules.push_back(fmt::format("ip6 saddr {} oifname != \"{}\" masquerade", *v.child6, v.veth));
  return rules;
}

// Proxy mode and --iface share one mangle chain so their order is fixed:
// a TPROXY'd packet is accepted (ending the chain) before the iface mark
// could overwrite its mark. Empty: no mangle chain.
std::vector<std::string> mangle_rules(const host_values& v, const host_table_plan& plan) {
  const auto in = from_veth(v);
  std::vector<std::string> rules;
  if (plan.tproxy_port) {
    const auto port = *plan.tproxy_port;
    const auto mark = hex_mark(plan.tproxy_mark);
    rules.push_back(fmt::format(
        "{} meta l4proto tcp th dport != 53 ip daddr != {} tproxy ip to {}:{} meta mark set {} accept", in,
        v.gateway4, v.gateway4, port, mark));
    if (v.gateway6)
      rules.push_back(fmt::format(
          "{} meta l4proto tcp th dport != 53 ip6 daddr != {} tproxy ip6 to [{}]:{} meta mark set {} accept", in,
          *v.gateway6, *v.gateway6, port, mark));
  }
  if (v.iface) {
    const auto mark = hex_mark(plan.iface_mark);
    rules.push_back(fmt::format("{} ip daddr != {} meta mark set {}", in, v.gateway4, mark));
    if (v.gateway6) rules.push_back(fmt::format("{} ip6 daddr != {} meta mark set {}", in, *v.gateway6, mark));
  }
  return rules;
}

// The tree's flows crossing an interface that `iface_match` selects, to the NFLOG group.
std::vector<std::string> capture_rules(const host_values& v, std::string_view iface_match, std::uint16_t group) {
  std::vector<std::string> logs{fmt::format("{} ct original ip saddr {} log group {}", iface_match, v.child4, group)};
  if (v.child6)
    logs.push_back(fmt::format("{} ct original ip6 saddr {} log group {}", iface_match, *v.child6, group));
  return logs;
}

// Refuses what came from the tree at once: TCP with a reset, anything else
// with ICMP administratively prohibited (never a silent drop that leaves a
// client waiting). `match` selects the packets (may be empty).
std::vector<std::string> refuse_rules(const host_values& v, std::string_view match) {
  const auto in = from_veth(v);
  const auto sep = match.empty() ? "" : " ";
  return {fmt::format("{}{}{} meta l4proto tcp counter reject with tcp reset", in, sep, match),
          fmt::format("{}{}{} counter reject with icmpx admin-prohibited", in, sep, match)};
}

// Nothing new enters the tree; with --iface, the tree leaves by no other
// interface (refused at once: a client waits on it).
std::vector<std::string> forward_rules(const host_values& v) {
  const auto out_veth = fmt::format("oifname \"{}\"", v.veth);
  std::vector<std::string> rules;
  if (v.iface) rules = refuse_rules(v, fmt::format("oifname != \"{}\"", *v.iface));
  rules.push_back(out_veth + " ct state established,related accept");
  rules.push_back(out_veth + " counter drop");
  return rules;
}

// "{ 80, 8080 }": ports as an nft set (numbers only, validated by type).
std::string port_set(const std::vector<std::uint16_t>& ports) {
  std::string out;
  for (auto p : ports) out += fmt::format("{}{}", out.empty() ? "" : ", ", p);
  return "{ " + out + " }";
}

// --host-port: the gateway's listed ports, where netpen listens (bound to
// the veth) and relays to the host's loopback.
std::vector<std::string> host_port_rules(const host_values& v, const host_table_plan& plan) {
  const auto in = from_veth(v);
  std::vector<std::string> rules;
  for (const auto& [proto, ports] : {std::pair{"tcp", &plan.host_tcp_ports}, std::pair{"udp", &plan.host_udp_ports}}) {
    if (ports->empty()) continue;
    rules.push_back(fmt::format("{} ip daddr {} {} dport {} accept", in, v.gateway4, proto, port_set(*ports)));
    if (v.gateway6)
      rules.push_back(fmt::format("{} ip6 daddr {} {} dport {} accept", in, *v.gateway6, proto, port_set(*ports)));
  }
  return rules;
}

// What the tree sends to the host itself. The gateway answers DNS and ping
// (and, in proxy mode, takes the TPROXY'd connections; --host-port's
// listed ports), plus neighbour
// discovery; nothing else on it, on its link-local address or on another
// run's gateway (the netpen pools). The host's other own addresses (its
// uplinks, aliases on its lo) are reached as the rootless relay reaches
// them: the tree's table already queued each new flow to the gate, so what
// arrives here was judged by the run's policy. Loopback never arrives (the
// tree's 127.0.0.0/8 and ::1 are its own). Everything refused is refused
// at once.
std::vector<std::string> input_rules(const host_values& v, const host_table_plan& plan) {
  const auto in = from_veth(v);
  const auto dns = plan.dns_port;
  std::vector<std::string> rules{
      in + " ct state established,related accept",
      fmt::format("{} ip daddr {} meta l4proto {{ tcp, udp }} th dport {} accept", in, v.gateway4, dns),
      fmt::format("{} ip daddr {} icmp type echo-request accept", in, v.gateway4)};
  if (v.gateway6) {
    rules.push_back(
        fmt::format("{} ip6 daddr {} meta l4proto {{ tcp, udp }} th dport {} accept", in, *v.gateway6, dns));
    rules.push_back(fmt::format("{} ip6 daddr {} icmpv6 type echo-request accept", in, *v.gateway6));
    rules.push_back(in + " icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit } accept");
  }
  if (plan.tproxy_port) rules.push_back(fmt::format("{} meta mark {} accept", in, hex_mark(plan.tproxy_mark)));
  for (auto& r : host_port_rules(v, plan)) rules.push_back(std::move(r));
  const auto add = [&rules](std::vector<std::string> more) {
    rules.insert(rules.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  };
  add(refuse_rules(v, fmt::format("ip daddr {}", v.gateway4)));
  add(refuse_rules(v, fmt::format("ip daddr {}", netpen_pool4)));
  if (v.gateway6) add(refuse_rules(v, fmt::format("ip6 daddr {}", *v.gateway6)));
  add(refuse_rules(v, fmt::format("ip6 daddr {}", netpen_pool6)));
  add(refuse_rules(v, "ip6 daddr fe80::/10"));
  rules.push_back(in + " fib daddr type local accept");
  add(refuse_rules(v, ""));
  return rules;
}

}  // namespace

bool valid_table_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  const auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (!alpha(name.front())) return false;
  for (char c : name)
    if (!alpha(c) && !(c >= '0' && c <= '9') && c != '_') return false;
  return true;
}

bool valid_interface_name(std::string_view name) {
  if (name.empty() || name.size() > 15 || name == "." || name == "..") return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool valid_family(std::string_view family) {
  return family == "ip" || family == "ip6" || family == "inet" || family == "arp" || family == "bridge" ||
         family == "netdev";
}

result<std::string> host_table_script(const host_table_plan& plan) {
  auto checked = validate(plan);
  if (!checked) return unexpected<error>(checked.error());
  const host_values& v = *checked;
  std::string s = table_header(v.table);
  chain(s, "prerouting_nat", "nat", "prerouting", "dstnat", dns_redirect_rules(v, plan.dns_port));
  chain(s, "postrouting_nat", "nat", "postrouting", "srcnat", masquerade_rules(v));
  if (auto rules = mangle_rules(v, plan); !rules.empty())
    chain(s, "prerouting_mangle", "filter", "prerouting", "mangle", rules);
  if (plan.log_group) {
    // The tree's flows (their conntrack entry's original source is the
    // child) on every interface but the veth: in before the masquerade is
    // undone (after conntrack, before dstnat), out after it was applied.
    chain(s, "capture_in", "filter", "prerouting", "-110",
          capture_rules(v, fmt::format("iifname != \"{}\"", v.veth), *plan.log_group));
    chain(s, "capture_out", "filter", "postrouting", "110",
          capture_rules(v, fmt::format("oifname != \"{}\"", v.veth), *plan.log_group));
  }
  chain(s, "forward", "filter", "forward", "filter", forward_rules(v));
  chain(s, "input", "filter", "input", "filter", input_rules(v, plan));
  s += "}\n";
  return s;
}

// The tree's input: only netpen's connections to published ports are new.
result<std::vector<std::string>> tree_input_rules(const child_table_plan& plan) {
  auto g4 = canonical_address(AF_INET, *plan.gateway4);
  if (!g4) return bad(fmt::format("gateway4 \"{}\"", *plan.gateway4));
  std::optional<std::string> g6;
  if (plan.gateway6) {
    g6 = canonical_address(AF_INET6, *plan.gateway6);
    if (!g6) return bad(fmt::format("gateway6 \"{}\"", *plan.gateway6));
  }
  std::vector<std::string> rules{"ct state established,related accept", "iifname \"lo\" accept"};
  for (const auto& p : plan.published) {
    if (p.port == 0) return bad("a published port is 0");
    const auto proto = p.udp ? "udp" : "tcp";
    rules.push_back(fmt::format("ip saddr {} {} dport {} accept", *g4, proto, p.port));
    if (g6) rules.push_back(fmt::format("ip6 saddr {} {} dport {} accept", *g6, proto, p.port));
  }
  rules.emplace_back("ct state new meta l4proto tcp counter reject with tcp reset");
  rules.emplace_back("ct state new meta l4proto udp counter reject with icmpx port-unreachable");
  return rules;
}

std::string first_bytes_rule(std::uint16_t group) {
  return fmt::format("meta l4proto tcp ct direction original ct original packets <= {} oifname != \"lo\" log group {}",
                     first_bytes_packets, group);
}

namespace {
// The tree's output rules with the first-bytes copy, when asked for, before
// them all: it is not a verdict, so every packet goes on as before.
std::vector<std::string> with_first_bytes(const child_table_plan& plan, std::vector<std::string> rules) {
  if (plan.first_bytes_group) rules.insert(rules.begin(), first_bytes_rule(*plan.first_bytes_group));
  return rules;
}
}  // namespace

result<std::string> child_table_script(const child_table_plan& plan) {
  if (plan.deny_mark == 0) return bad("deny_mark is 0");
  std::optional<std::vector<std::string>> input;
  if (plan.gateway4) {
    auto rules = tree_input_rules(plan);
    if (!rules) return unexpected(rules.error());
    input = std::move(*rules);
  }
  const auto deny = hex_mark(plan.deny_mark);
  std::string s = table_header(child_table_name);
  // The gate's verdict cache: destinations the gate allowed for a reason
  // that does not change during the run, each for a while (see
  // allowed_element_script); their new flows skip the queue.
  for (const auto& [set, type] : {std::pair{allowed_set4, "ipv4_addr"}, std::pair{allowed_set6, "ipv6_addr"}})
    s += fmt::format("\tset {} {{\n\t\ttype {} . inet_proto . inet_service\n\t\tflags timeout\n\t}}\n", set,
                     type);
  chain(s, "output", "filter", "output", "filter",
        with_first_bytes(plan, {// Most packets: first. A packet the gate denied (NF_REPEAT) is never established.
         "ct state established,related accept", "oifname \"lo\" accept",
         fmt::format("meta mark & {0} == {0} meta l4proto tcp counter reject with tcp reset", deny),
         fmt::format("meta mark & {0} == {0} counter reject with icmpx admin-prohibited", deny),
         "ct state invalid counter drop",
         "meta l4proto { tcp, udp } th dport 53 accept",
         fmt::format("meta l4proto {{ tcp, udp }} ip daddr . meta l4proto . th dport @{} counter accept", allowed_set4),
         fmt::format("meta l4proto {{ tcp, udp }} ip6 daddr . meta l4proto . th dport @{} counter accept",
                     allowed_set6),
         fmt::format("ct state new counter queue num {}", plan.queue)}));
  if (input) chain(s, "input", "filter", "input", "filter", *input);
  s += "}\n";
  return s;
}

result<std::string> allowed_element_script(const std::string& address, bool tcp, std::uint16_t port,
                                           std::chrono::seconds timeout) {
  const bool v6 = address.find(':') != std::string::npos;
  const auto canonical = canonical_address(v6 ? AF_INET6 : AF_INET, address);
  if (!canonical) return bad(fmt::format("\"{}\" is not an address", address));
  if (timeout.count() <= 0) return bad("a cached verdict needs a timeout");
  return fmt::format("add element inet {} {} {{ {} . {} . {} timeout {}s }}\n", child_table_name,
                     v6 ? allowed_set6 : allowed_set4, *canonical, tcp ? "tcp" : "udp", port, timeout.count());
}

result<std::string> delete_table_script(std::string_view table) {
  if (!valid_table_name(table)) return bad(fmt::format("table name \"{}\"", table));
  return fmt::format("delete table inet {}\n", table);
}

}  // namespace netpen::backends::rootful
