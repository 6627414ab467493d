// [nft] The rootful backend's nftables text and its libnftables wrapper:
// the generated host and child tables for each option set (key rules, all
// keyed on the run's veth, invalid input refused), then, as root, the
// scripts validated and applied for real inside a forked child's private
// network namespace, listed, deleted, and the ruleset found empty again.
// The host's own network configuration is never touched. The kernel cases
// are tagged [root]: skipped (ctest: Not Run) when not root.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "backends/rootful/nft_ruleset.hpp"
#include "backends/rootful/nftables.hpp"
#include "tests/unit/private_netns.hpp"

using namespace netpen::backends::rootful;

namespace {

using namespace std::chrono_literals;

host_table_plan base_plan() {
  host_table_plan p;
  p.table = "netpen_3fa9c1";
  p.veth = "np3fa9c1";
  p.child4 = "10.249.17.2";
  p.gateway4 = "10.249.17.1";
  p.child6 = "fd6e:7065:6e11::2";
  p.gateway6 = "fd6e:7065:6e11::1";
  p.dns_port = 5353;
  return p;
}

host_table_plan proxy_plan() {
  auto p = base_plan();
  p.tproxy_port = 12345;
  p.tproxy_mark = 0x100;
  return p;
}

host_table_plan iface_plan() {
  auto p = base_plan();
  p.iface = "eth0";
  p.iface_mark = 0x200;
  return p;
}

host_table_plan both_plan() {
  auto p = proxy_plan();
  p.iface = "eth0";
  p.iface_mark = 0x200;
  return p;
}

std::string script(const host_table_plan& p) {
  auto s = host_table_script(p);
  REQUIRE(s.has_value());
  return *s;
}

bool has(const std::string& text, const std::string& needle) { return text.find(needle) != std::string::npos; }

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// Every rule line (not the table/chain scaffolding) mentions the run's veth
// or the run's own addresses: nothing host-wide.
void check_keyed_on_run(const std::string& s, const host_table_plan& p) {
  for (const auto& line : lines_of(s)) {
    if (line.rfind("\t\t", 0) != 0 || line.rfind("\t\ttype ", 0) == 0) continue;
    const bool keyed = has(line, "\"" + p.veth + "\"") || has(line, "saddr " + p.child4) ||
                       (p.child6 && has(line, "saddr " + *p.child6));
    INFO(line);
    CHECK(keyed);
  }
}

void check_base_chains_accept(const std::string& s) {
  for (const auto& line : lines_of(s))
    if (line.rfind("\t\ttype ", 0) == 0) {
      INFO(line);
      CHECK(has(line, "policy accept;"));
    }
}

}  // namespace

TEST_CASE("host table: plain run with IPv4 and IPv6", "[nft]") {
  const auto p = base_plan();
  const auto s = script(p);
  CHECK(s.rfind("add table inet netpen_3fa9c1\ndelete table inet netpen_3fa9c1\ntable inet netpen_3fa9c1 {\n", 0) == 0);
  CHECK(has(s, "type nat hook prerouting priority dstnat; policy accept;"));
  CHECK(has(s, "iifname \"np3fa9c1\" meta nfproto ipv4 meta l4proto { tcp, udp } th dport 53 dnat ip to 10.249.17.1:5353"));
  CHECK(has(s, "iifname \"np3fa9c1\" meta nfproto ipv6 meta l4proto { tcp, udp } th dport 53 dnat ip6 to [fd6e:7065:6e11::1]:5353"));
  CHECK(has(s, "ip saddr 10.249.17.2 oifname != \"np3fa9c1\" masquerade"));
  CHECK(has(s, "ip6 saddr fd6e:7065:6e11::2 oifname != \"np3fa9c1\" masquerade"));
  CHECK(has(s, "oifname \"np3fa9c1\" ct state established,related accept\n\t\toifname \"np3fa9c1\" counter drop"));
  CHECK(has(s, "iifname \"np3fa9c1\" ip daddr 10.249.17.1 meta l4proto { tcp, udp } th dport 5353 accept"));
  CHECK(has(s, "iifname \"np3fa9c1\" ip6 daddr fd6e:7065:6e11::1 meta l4proto { tcp, udp } th dport 5353 accept"));
  CHECK(has(s, "iifname \"np3fa9c1\" ip daddr 10.249.17.1 icmp type echo-request accept"));
  CHECK(has(s, "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit } accept"));
  // The input chain ends with the refusal, after every accept.
  const auto input = s.find("chain input");
  REQUIRE(input != std::string::npos);
  CHECK(s.find("iifname \"np3fa9c1\" counter reject with icmpx admin-prohibited\n\t}", input) > s.rfind("accept"));
  CHECK_FALSE(has(s, "tproxy"));
  CHECK_FALSE(has(s, "meta mark"));
  CHECK_FALSE(has(s, "prerouting_mangle"));
  check_keyed_on_run(s, p);
  check_base_chains_accept(s);
}

TEST_CASE("host table: IPv4 only has no ip6 rules but the refusals", "[nft]") {
  auto p = base_plan();
  p.child6.reset();
  p.gateway6.reset();
  const auto s = script(p);
  // The veth's link-local addresses and the other runs' gateways are still
  // refused, whatever the tree sends them.
  std::size_t refusals = 0;
  for (std::size_t at = s.find("ip6"); at != std::string::npos; at = s.find("ip6", at + 1)) {
    const auto line = s.substr(s.rfind('\n', at) + 1, s.find('\n', at) - s.rfind('\n', at) - 1);
    CHECK(has(line, "reject with"));
    ++refusals;
  }
  CHECK(refusals == 4);
  CHECK(has(s, "iifname \"np3fa9c1\" ip6 daddr fe80::/10 meta l4proto tcp counter reject with tcp reset"));
  CHECK_FALSE(has(s, "icmpv6"));
  CHECK_FALSE(has(s, "ipv6"));
  CHECK(has(s, "dnat ip to 10.249.17.1:5353"));
  check_keyed_on_run(s, p);
}

namespace {

// The input chain's rules, one per line, without indentation.
std::vector<std::string> input_chain(const std::string& s) {
  std::vector<std::string> lines;
  auto at = s.find("chain input {");
  REQUIRE(at != std::string::npos);
  at = s.find("policy accept;\n", at) + 15;
  for (auto end = s.find('\n', at); end != std::string::npos && s.compare(at, 2, "\t}") != 0;
       at = end + 1, end = s.find('\n', at)) {
    auto line = s.substr(at, end - at);
    line.erase(0, line.find_first_not_of('\t'));
    lines.push_back(line);
  }
  return lines;
}

}  // namespace

TEST_CASE("host table: the tree reaches the host's own addresses, refusals are fast", "[nft]") {
  const auto s = script(base_plan());
  const auto rules = input_chain(s);
  const std::string in = "iifname \"np3fa9c1\" ";
  const auto pos = [&rules](const std::string& rule) {
    const auto it = std::find(rules.begin(), rules.end(), rule);
    return it == rules.end() ? std::ptrdiff_t{-1} : it - rules.begin();
  };
  const auto refused = [&](const std::string& match) {
    const auto tcp = pos(in + match + " meta l4proto tcp counter reject with tcp reset");
    const auto other = pos(in + match + " counter reject with icmpx admin-prohibited");
    CHECK(tcp >= 0);
    CHECK(other == tcp + 1);
    return tcp;
  };
  // The gateway answers DNS and ping only; its other ports, another run's
  // gateway and the link-local addresses are refused before the host's
  // own addresses are accepted (the tree's gate judged those flows).
  const auto local = pos(in + "fib daddr type local accept");
  REQUIRE(local >= 0);
  CHECK(pos(in + "ip daddr 10.249.17.1 meta l4proto { tcp, udp } th dport 5353 accept") < refused("ip daddr 10.249.17.1"));
  CHECK(refused("ip daddr 10.249.17.1") < local);
  CHECK(refused("ip daddr 10.249.0.0/16") < local);
  CHECK(refused("ip6 daddr fd6e:7065:6e11::1") < local);
  CHECK(refused("ip6 daddr fd6e:7065:6e01::/48") < local);
  CHECK(refused("ip6 daddr fe80::/10") < local);
  CHECK(pos(in + "icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit } accept") <
        refused("ip6 daddr fe80::/10"));
  // The rest (broadcast, multicast) is refused too, last; nothing from the tree is dropped.
  REQUIRE(rules.size() >= 2);
  CHECK(rules[rules.size() - 2] == in + "meta l4proto tcp counter reject with tcp reset");
  CHECK(rules.back() == in + "counter reject with icmpx admin-prohibited");
  for (const auto& r : rules) CHECK_FALSE(has(r, "drop"));
}

TEST_CASE("host table: --host-port lets the tree in at the gateway's listed ports only", "[nft]") {
  auto p = base_plan();
  p.host_tcp_ports = {8080, 9000, 9001};
  p.host_udp_ports = {5353};
  const auto rules = input_chain(script(p));
  const std::string in = "iifname \"np3fa9c1\" ";
  const auto pos = [&rules](const std::string& rule) {
    const auto it = std::find(rules.begin(), rules.end(), rule);
    return it == rules.end() ? std::ptrdiff_t{-1} : it - rules.begin();
  };
  const auto refusal = pos(in + "ip daddr 10.249.17.1 meta l4proto tcp counter reject with tcp reset");
  const auto tcp4 = pos(in + "ip daddr 10.249.17.1 tcp dport { 8080, 9000, 9001 } accept");
  const auto tcp6 = pos(in + "ip6 daddr fd6e:7065:6e11::1 tcp dport { 8080, 9000, 9001 } accept");
  const auto udp4 = pos(in + "ip daddr 10.249.17.1 udp dport { 5353 } accept");
  const auto udp6 = pos(in + "ip6 daddr fd6e:7065:6e11::1 udp dport { 5353 } accept");
  for (auto at : {tcp4, tcp6, udp4, udp6}) {
    CHECK(at >= 0);
    CHECK(at < refusal);  // before the gateway's other ports are refused
  }
  // Without --host-port no such rule.
  for (const auto& r : input_chain(script(base_plan()))) CHECK_FALSE(has(r, " dport { "));
  p.host_udp_ports = {0};
  CHECK_FALSE(host_table_script(p).has_value());
}

TEST_CASE("host table: proxy mode sends the tree's TCP to the transparent listener", "[nft]") {
  const auto p = proxy_plan();
  const auto s = script(p);
  CHECK(has(s, "chain prerouting_mangle {\n\t\ttype filter hook prerouting priority mangle; policy accept;"));
  CHECK(has(s, "iifname \"np3fa9c1\" meta l4proto tcp th dport != 53 ip daddr != 10.249.17.1 tproxy ip to "
               "10.249.17.1:12345 meta mark set 0x00000100 accept"));
  CHECK(has(s, "iifname \"np3fa9c1\" meta l4proto tcp th dport != 53 ip6 daddr != fd6e:7065:6e11::1 tproxy ip6 to "
               "[fd6e:7065:6e11::1]:12345 meta mark set 0x00000100 accept"));
  CHECK(has(s, "iifname \"np3fa9c1\" meta mark 0x00000100 accept"));
  CHECK(s.find("meta mark 0x00000100 accept") <
        s.find("iifname \"np3fa9c1\" ip daddr 10.249.17.1 meta l4proto tcp counter reject", s.find("chain input")));
  check_keyed_on_run(s, p);
  check_base_chains_accept(s);
}

TEST_CASE("host table: --iface marks the tree's packets and forwards only through it", "[nft]") {
  const auto p = iface_plan();
  const auto s = script(p);
  CHECK(has(s, "iifname \"np3fa9c1\" ip daddr != 10.249.17.1 meta mark set 0x00000200"));
  CHECK(has(s, "iifname \"np3fa9c1\" ip6 daddr != fd6e:7065:6e11::1 meta mark set 0x00000200"));
  const auto forward = s.find("chain forward");
  REQUIRE(forward != std::string::npos);
  CHECK(has(s, "iifname \"np3fa9c1\" oifname != \"eth0\" meta l4proto tcp counter reject with tcp reset\n\t\t"
               "iifname \"np3fa9c1\" oifname != \"eth0\" counter reject with icmpx admin-prohibited\n"));
  CHECK(s.find("iifname \"np3fa9c1\" oifname != \"eth0\" meta l4proto tcp counter reject", forward) <
        s.find("oifname \"np3fa9c1\" ct state established,related accept", forward));
  CHECK_FALSE(has(s, "tproxy"));
  check_keyed_on_run(s, p);
}

TEST_CASE("host table: proxy mode with --iface keeps TPROXY'd packets' mark", "[nft]") {
  const auto p = both_plan();
  const auto s = script(p);
  // One mangle chain: the TPROXY rules accept (ending the chain) before the
  // iface mark could overwrite their mark.
  const auto first = s.find("chain prerouting_mangle");
  REQUIRE(first != std::string::npos);
  CHECK(s.find("chain prerouting_mangle", first + 1) == std::string::npos);
  CHECK(s.find("tproxy ip6 to") < s.find("meta mark set 0x00000200"));
  CHECK(has(s, "oifname != \"eth0\" counter reject with icmpx admin-prohibited"));
  check_keyed_on_run(s, p);
  check_base_chains_accept(s);
}

TEST_CASE("host table: addresses are printed canonically", "[nft]") {
  auto p = base_plan();
  p.child6 = "FD6E:7065:6E11:0:0:0:0:2";
  const auto s = script(p);
  CHECK(has(s, "ip6 saddr fd6e:7065:6e11::2 "));
}

TEST_CASE("host table: invalid plans are refused", "[nft]") {
  const auto refused = [](const host_table_plan& p) {
    auto s = host_table_script(p);
    REQUIRE_FALSE(s.has_value());
    CHECK(s.error().code == "nft-plan");
  };
  auto p = base_plan();
  for (const char* name : {"", "1abc", "a b", "x;flush ruleset", "a\"b", "t{", "a-b"}) {
    INFO(name);
    p = base_plan();
    p.table = name;
    refused(p);
  }
  for (const char* name : {"", "toolongname12345", "a b", "ve\"th", "a;b", ".", "..", "x}"}) {
    INFO(name);
    p = base_plan();
    p.veth = name;
    refused(p);
  }
  p = base_plan();
  p.child4 = "10.249.17.2; flush ruleset";
  refused(p);
  p = base_plan();
  p.gateway4 = "fd6e::1";
  refused(p);
  p = base_plan();
  p.gateway4 = p.child4;
  refused(p);
  p = base_plan();
  p.child6 = "10.249.17.2";
  refused(p);
  p = base_plan();
  p.gateway6.reset();
  refused(p);
  p = base_plan();
  p.dns_port = 0;
  refused(p);
  p = proxy_plan();
  p.tproxy_mark = 0;
  refused(p);
  p = proxy_plan();
  p.tproxy_port = 0;
  refused(p);
  p = iface_plan();
  p.iface = "eth0\" accept";
  refused(p);
  p = iface_plan();
  p.iface = p.veth;
  refused(p);
  p = iface_plan();
  p.iface_mark = 0;
  refused(p);
  p = both_plan();
  p.iface_mark = p.tproxy_mark;
  refused(p);
}

TEST_CASE("child table: the policy gate", "[nft]") {
  auto s = child_table_script({.queue = 7, .deny_mark = 0x40000000});
  REQUIRE(s.has_value());
  CHECK(s->rfind("add table inet netpen\ndelete table inet netpen\ntable inet netpen {\n", 0) == 0);
  const std::vector<std::string> rules{
      "\t\ttype filter hook output priority filter; policy accept;",
      "\t\tct state established,related accept",
      "\t\toifname \"lo\" accept",
      "\t\tmeta mark & 0x40000000 == 0x40000000 meta l4proto tcp counter reject with tcp reset",
      "\t\tmeta mark & 0x40000000 == 0x40000000 counter reject with icmpx admin-prohibited",
      "\t\tct state invalid counter drop",  // never past the gate unjudged
      "\t\tmeta l4proto { tcp, udp } th dport 53 accept",
      "\t\tmeta l4proto { tcp, udp } ip daddr . meta l4proto . th dport @allowed4 counter accept",
      "\t\tmeta l4proto { tcp, udp } ip6 daddr . meta l4proto . th dport @allowed6 counter accept",
      "\t\tct state new counter queue num 7",
  };
  const auto lines = lines_of(*s);
  const auto start = std::find(lines.begin(), lines.end(), "\tchain output {");
  REQUIRE(start != lines.end());
  REQUIRE(static_cast<std::size_t>(lines.end() - start) > rules.size());
  for (std::size_t i = 0; i < rules.size(); ++i) CHECK(*(start + 1 + static_cast<std::ptrdiff_t>(i)) == rules[i]);
  CHECK_FALSE(has(*s, "bypass"));  // fail closed without netpen

  auto bad = child_table_script({.queue = 0, .deny_mark = 0});
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code == "nft-plan");
}

TEST_CASE("child table: the verdict cache's sets and elements", "[nft]") {
  auto s = child_table_script({.queue = 7, .deny_mark = 0x40000000});
  REQUIRE(s.has_value());
  CHECK(has(*s, "\tset allowed4 {\n\t\ttype ipv4_addr . inet_proto . inet_service\n\t\tflags timeout\n\t}\n"));
  CHECK(has(*s, "\tset allowed6 {\n\t\ttype ipv6_addr . inet_proto . inet_service\n\t\tflags timeout\n\t}\n"));
  CHECK(allowed_element_script("192.0.2.7", true, 443, std::chrono::seconds(60)).value() ==
        "add element inet netpen allowed4 { 192.0.2.7 . tcp . 443 timeout 60s }\n");
  CHECK(allowed_element_script("2001:DB8:0::1", false, 53, std::chrono::seconds(5)).value() ==
        "add element inet netpen allowed6 { 2001:db8::1 . udp . 53 timeout 5s }\n");
  for (const auto* bad : {"", "192.0.2.7 }", "example.com", "1.2.3.4; flush ruleset"}) {
    INFO(bad);
    CHECK_FALSE(allowed_element_script(bad, true, 80, std::chrono::seconds(60)).has_value());
  }
  CHECK_FALSE(allowed_element_script("192.0.2.7", true, 80, std::chrono::seconds(0)).has_value());
}

TEST_CASE("delete script and name validators", "[nft]") {
  auto d = delete_table_script("netpen_3fa9c1");
  REQUIRE(d.has_value());
  CHECK(*d == "delete table inet netpen_3fa9c1\n");
  CHECK_FALSE(delete_table_script("x\ny").has_value());
  CHECK(valid_interface_name("eth0.100"));
  CHECK(valid_interface_name("wg-vpn_1"));
  CHECK(valid_interface_name("abcdefghijklmno"));
  CHECK_FALSE(valid_interface_name("abcdefghijklmnop"));
  CHECK_FALSE(valid_interface_name("eth 0"));
  CHECK_FALSE(valid_interface_name("eth/0"));
  CHECK(valid_family("inet"));
  CHECK_FALSE(valid_family("inet6"));
  CHECK_FALSE(valid_family("inet x"));
}

// ---- kernel tests (root, private network namespace) -------------------------

using netns_test::check_in_private_netns;
using netns_test::expect;
using netns_test::expect_ok;

namespace {

void host_table_child(const host_table_plan& p) {
  auto nft = expect_ok(nft_session::open(), "open");
  const auto before = expect_ok(nft.list_ruleset(), "list ruleset");
  expect(before.empty(), "a fresh namespace has an empty ruleset: " + before);
  const auto text = expect_ok(host_table_script(p), "host_table_script");
  expect_ok(nft.check(text), "check");
  expect(!expect_ok(nft.table_exists("inet", p.table), "exists"), "check() created the table");
  expect_ok(nft.run(text), "run");
  expect(expect_ok(nft.table_exists("inet", p.table), "exists"), "table missing after run");
  const auto listed = expect_ok(nft.list_table("inet", p.table), "list table");
  expect(listed.find("iifname \"" + p.veth + "\" counter packets 0 bytes 0 reject with icmpx admin-prohibited") !=
             std::string::npos,
         "input refusal rule missing: " + listed);
  expect(listed.find("iifname \"" + p.veth + "\" fib daddr type local accept") != std::string::npos,
         "host-address rule missing: " + listed);
  expect(listed.find("masquerade") != std::string::npos, "masquerade missing: " + listed);
  if (p.tproxy_port) expect(listed.find("tproxy ip to") != std::string::npos, "tproxy missing: " + listed);
  // Applying again replaces the table rather than doubling its rules.
  expect_ok(nft.run(text), "second run");
  const auto again = expect_ok(nft.list_table("inet", p.table), "list again");
  expect(again == listed, "second run changed the table:\n" + again);
  expect_ok(nft.run(expect_ok(delete_table_script(p.table), "delete script")), "delete");
  expect(!expect_ok(nft.table_exists("inet", p.table), "exists"), "table still there");
  expect_ok(nft.delete_table_if_exists("inet", p.table), "delete missing table");
  const auto after = expect_ok(nft.list_ruleset(), "list ruleset");
  expect(after.empty(), "ruleset not empty after delete: " + after);
}

}  // namespace

TEST_CASE("nft session: host tables applied, listed and deleted in a private netns", "[nft][root]") {
  auto v4 = base_plan();
  v4.child6.reset();
  v4.gateway6.reset();
  auto host_ports = base_plan();
  host_ports.host_tcp_ports = {8080, 9000, 9001};
  host_ports.host_udp_ports = {53, 5353};
  for (const auto& p : {base_plan(), v4, proxy_plan(), iface_plan(), both_plan(), host_ports}) {
    INFO("tproxy " << p.tproxy_port.has_value() << ", iface " << p.iface.has_value() << ", ipv6 "
                   << p.child6.has_value());
    check_in_private_netns(
        [&] {
          host_table_child(p);
          return std::string();
        },
        20s);
  }
}

TEST_CASE("nft session: the child table in a private netns", "[nft][root]") {
  check_in_private_netns(
      [] {
        auto nft = expect_ok(nft_session::open(), "open");
        // With the input chain of a run that publishes ports (nft checks its syntax too).
        const child_table_plan plan{.queue = 3, .deny_mark = 0x1, .gateway4 = "10.249.17.1",
                                    .gateway6 = "fd6e:7065:6e01:11::1", .published = {{8000, false}, {53, true}},
                                    .first_bytes_group = 1};
        const auto text = expect_ok(child_table_script(plan), "child_table_script");
        if (!expect_ok(nft.kernel_has_queue(), "queue probe")) {
          // nft's error text must reach the caller (nft 1.0.6 may point its
          // caret at another line of the batch, so only the text is checked).
          auto r = nft.run(text);
          expect(!r && r.error().code == "nft-failed" &&
                     r.error().message.find("Could not process rule") != std::string::npos,
                 "expected nft's error about the queue rule: " + (r ? std::string("ok") : r.error().message));
          expect(expect_ok(nft.list_ruleset(), "list").empty(), "a failed transaction left rules behind");
          // The rest of the table still loads without the queue rule.
          std::string rest = text;
          const std::string queue_rule = "\t\tct state new counter queue num 3\n";
          const auto at = rest.find(queue_rule);
          expect(at != std::string::npos, "queue rule not found");
          rest.erase(at, queue_rule.size());
          expect_ok(nft.run(rest), "run without the queue rule");
          const auto listed = expect_ok(nft.list_table("inet", child_table_name), "list table");
          expect(listed.find("reject with tcp reset") != std::string::npos &&
                     listed.find("ip saddr 10.249.17.1 tcp dport 8000 accept") != std::string::npos &&
                     listed.find(first_bytes_rule(1)) != std::string::npos,
                 "rules missing: " + listed);
          // A cached verdict is an element of the allowed set, with its timeout.
          expect_ok(nft.run(expect_ok(allowed_element_script("192.0.2.7", true, 443, 60s), "element")), "add");
          expect_ok(nft.run(expect_ok(allowed_element_script("2001:db8::7", false, 53, 60s), "element")), "add");
          const auto cached = expect_ok(nft.list_table("inet", child_table_name), "list table");
          expect(cached.find("192.0.2.7 . tcp . 443 timeout 1m") != std::string::npos &&
                     cached.find("2001:db8::7 . udp . 53 timeout 1m") != std::string::npos,
                 "elements missing: " + cached);
          expect_ok(nft.delete_table_if_exists("inet", child_table_name), "delete");
          return "skip: this kernel has no nft queue expression (CONFIG_NFT_QUEUE): the child table cannot be "
                 "loaded here: " +
                 r.error().message;
        }
        expect_ok(nft.check(text), "check");
        expect(expect_ok(nft.list_ruleset(), "list").empty(), "check() changed the ruleset");
        expect_ok(nft.run(text), "run");
        const auto listed = expect_ok(nft.list_table("inet", child_table_name), "list table");
        expect(listed.find("queue") != std::string::npos && listed.find("reject with tcp reset") != std::string::npos &&
                   listed.find("ip saddr 10.249.17.1 tcp dport 8000 accept") != std::string::npos,
               "rules missing: " + listed);
        expect_ok(nft.delete_table_if_exists("inet", child_table_name), "delete");
        expect(expect_ok(nft.list_ruleset(), "list").empty(), "ruleset not empty after delete");
        return std::string();
      },
      20s);
}

TEST_CASE("nft session: errors carry nft's text, bad names are refused", "[nft][root]") {
  check_in_private_netns(
      [] {
        auto nft = expect_ok(nft_session::open(), "open");
        auto r = nft.run("table inet t {\n\tchain c {\n\t\tthis is not nft\n\t}\n}\n");
        expect(!r && r.error().code == "nft-failed", "a syntax error was accepted");
        expect(r.error().message.find("syntax error") != std::string::npos, "message: " + r.error().message);
        auto missing = nft.list_table("inet", "netpen_missing");
        expect(!missing && missing.error().code == "nft-failed", "listing a missing table succeeded");
        auto injected = nft.table_exists("inet", "x; flush ruleset");
        expect(!injected && injected.error().code == "nft-plan", "an injected name was accepted");
        expect(!nft.delete_table_if_exists("inet x", "t").has_value(), "a bad family was accepted");
        // Still usable after errors (buffers were reset).
        expect(expect_ok(nft.list_ruleset(), "list").empty(), "ruleset not empty");
        return std::string();
      },
      20s);
}

TEST_CASE("child table: the input chain accepts only netpen's connections to published ports", "[nft]") {
  child_table_plan plan{.queue = 7, .deny_mark = 0x40000000};
  CHECK_FALSE(has(child_table_script(plan).value(), "chain input"));  // no gateway: no input chain
  plan.gateway4 = "10.249.17.1";
  plan.gateway6 = "FD6E:7065:6E01:11::1";
  plan.published = {{8000, false}, {5353, true}};
  const auto s = child_table_script(plan).value();
  const std::vector<std::string> rules{
      "\t\ttype filter hook input priority filter; policy accept;",
      "\t\tct state established,related accept",
      "\t\tiifname \"lo\" accept",
      "\t\tip saddr 10.249.17.1 tcp dport 8000 accept",
      "\t\tip6 saddr fd6e:7065:6e01:11::1 tcp dport 8000 accept",
      "\t\tip saddr 10.249.17.1 udp dport 5353 accept",
      "\t\tip6 saddr fd6e:7065:6e01:11::1 udp dport 5353 accept",
      "\t\tct state new meta l4proto tcp counter reject with tcp reset",
      "\t\tct state new meta l4proto udp counter reject with icmpx port-unreachable",
      "\t}",
  };
  const auto lines = lines_of(s);
  const auto start = std::find(lines.begin(), lines.end(), "\tchain input {");
  REQUIRE(start != lines.end());
  REQUIRE(static_cast<std::size_t>(lines.end() - start) > rules.size());
  for (std::size_t i = 0; i < rules.size(); ++i) CHECK(*(start + 1 + static_cast<std::ptrdiff_t>(i)) == rules[i]);
  // Without published ports every new TCP/UDP connection into the tree is refused.
  plan.published.clear();
  CHECK_FALSE(has(child_table_script(plan).value(), "dport 8000"));
  CHECK(has(child_table_script(plan).value(), "ct state new meta l4proto tcp counter reject with tcp reset"));
  for (const char* bad : {"10.249.17.1; flush ruleset", "example.com"}) {
    plan.gateway4 = bad;
    auto r = child_table_script(plan);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == "nft-plan");
  }
  plan.gateway4 = "10.249.17.1";
  plan.published = {{0, false}};
  CHECK_FALSE(child_table_script(plan));
}

TEST_CASE("child table: the first-bytes copy comes first, only when asked for", "[nft]") {
  CHECK(first_bytes_rule(1) ==
        "meta l4proto tcp ct direction original ct original packets <= 8 oifname != \"lo\" log group 1");
  auto without = child_table_script({.queue = 7, .deny_mark = 0x40000000});
  REQUIRE(without.has_value());
  CHECK_FALSE(has(*without, "log group"));
  auto with = child_table_script({.queue = 7, .deny_mark = 0x40000000, .first_bytes_group = 3});
  REQUIRE(with.has_value());
  const auto lines = lines_of(*with);
  const auto start = std::find(lines.begin(), lines.end(), "\tchain output {");
  REQUIRE(lines.end() - start > 3);
  CHECK(*(start + 2) == "\t\t" + first_bytes_rule(3));  // before the established rule, which ends most packets
  CHECK(*(start + 3) == "\t\tct state established,related accept");
}
