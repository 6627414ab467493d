// [policy] The policy engine's decisions (net/policy): the default,
// on_connect precedence, wildcards, on_query, TTLs, remembered interactive
// decisions, the bound on learned names, thread safety, and which verdicts
// may turn around. Rule parsing and address classes: policy_rules_test.cpp.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "app/cli/policy_entry.hpp"
#include "net/policy/learned_names.hpp"
#include "net/policy/policy.hpp"
#include "tests/unit/policy_test_util.hpp"

using namespace std::chrono_literals;
using namespace policy_test;

TEST_CASE("policy default: any allow rule makes it deny, explicit default and interactive win", "[policy]") {
  auto with = [](std::string_view allow, std::string_view deny, std::optional<bool> def, bool interactive) {
    auto c = config(allow, deny);
    c.default_allow = def;
    c.interactive = interactive;
    return pol::policy(std::move(c)).default_allow();
  };
  CHECK(with("", "", std::nullopt, false));
  CHECK_FALSE(with("example.com", "", std::nullopt, false));
  CHECK(with("", "example.com", std::nullopt, false));
  CHECK(with("example.com", "", true, false));
  CHECK_FALSE(with("", "", false, false));
  CHECK_FALSE(with("", "", std::nullopt, true));
  CHECK_FALSE(with("", "", true, true));

  pol::policy open(config(""));
  check(open.on_connect(ip("203.0.113.1"), 443, tcp, t0), {verdict::allow, "default-allow"});
  auto closed_config = config("");
  closed_config.default_allow = false;
  pol::policy closed(std::move(closed_config));
  check(closed.on_connect(ip("203.0.113.1"), 443, tcp, t0), {verdict::deny, "not-allowed"});
}

TEST_CASE("policy on_connect: rules, learned names, ports and precedence", "[policy]") {
  pol::policy p(config("api.example.com:443,*.cdn.example,198.51.100.0/24,2001:db8:1::/48,203.0.113.7:22",
                       "198.51.100.66,[2001:db8:1:bad::/64]:443,tracker.example:80,*.bad.cdn.example"));
  learn(p, "api.example.com", {"93.184.216.34", "192.0.2.50"});
  learn(p, "img.cdn.example", {"192.0.2.10", "2001:db8:2::10"});
  learn(p, "x.bad.cdn.example", {"192.0.2.20"});
  learn(p, "tracker.example", {"192.0.2.30", "192.0.2.50"});
  learn(p, "other.org", {"192.0.2.40"});
  const std::string api = "api.example.com:443 (--allow)", cdn = "*.cdn.example (--allow)";
  const std::string tracker = "tracker.example:80 (--deny)";
  check_connects(p, {
      {"93.184.216.34", 443, tcp, {verdict::allow, "allowed-name", api, "api.example.com"}},
      {"93.184.216.34", 80, tcp, {verdict::deny, "not-allowed"}},
      {"93.184.216.34", 0, icmp, {verdict::deny, "not-allowed"}},
      {"192.0.2.10", 443, tcp, {verdict::allow, "allowed-name", cdn, "img.cdn.example"}},
      {"192.0.2.10", 0, icmp, {verdict::allow, "allowed-name", cdn, "img.cdn.example"}},
      {"2001:db8:2::10", 5353, udp, {verdict::allow, "allowed-name", cdn, "img.cdn.example"}},
      {"192.0.2.20", 443, tcp,
       {verdict::deny, "deny-rule", "*.bad.cdn.example (--deny)", "x.bad.cdn.example"}},
      {"192.0.2.30", 80, tcp, {verdict::deny, "deny-rule", tracker, "tracker.example"}},
      {"192.0.2.30", 443, tcp, {verdict::deny, "not-allowed"}},
      {"192.0.2.50", 80, tcp, {verdict::deny, "deny-rule", tracker, "tracker.example"}},
      {"192.0.2.50", 443, tcp, {verdict::allow, "allowed-name", api, "api.example.com"}},
      {"192.0.2.40", 443, tcp, {verdict::deny, "not-allowed"}},
      {"198.51.100.1", 443, tcp, {verdict::allow, "allow-rule", "198.51.100.0/24 (--allow)"}},
      {"198.51.100.66", 443, tcp, {verdict::deny, "deny-rule", "198.51.100.66 (--deny)"}},
      {"198.51.100.66", 0, icmp, {verdict::deny, "deny-rule", "198.51.100.66 (--deny)"}},
      {"::ffff:198.51.100.1", 443, tcp, {verdict::allow, "allow-rule", "198.51.100.0/24 (--allow)"}},
      {"::ffff:198.51.100.66", 443, tcp, {verdict::deny, "deny-rule", "198.51.100.66 (--deny)"}},
      {"2001:db8:1::5", 443, tcp, {verdict::allow, "allow-rule", "2001:db8:1::/48 (--allow)"}},
      {"2001:db8:1:bad::5", 443, tcp, {verdict::deny, "deny-rule", "[2001:db8:1:bad::/64]:443 (--deny)"}},
      {"2001:db8:1:bad::5", 80, tcp, {verdict::allow, "allow-rule", "2001:db8:1::/48 (--allow)"}},
      {"2001:db8:1:bad::5", 0, icmpv6, {verdict::allow, "allow-rule", "2001:db8:1::/48 (--allow)"}},
      {"2001:db8:2::11", 443, tcp, {verdict::deny, "not-allowed"}},
      {"203.0.113.7", 22, tcp, {verdict::allow, "allow-rule", "203.0.113.7:22 (--allow)"}},
      {"203.0.113.7", 23, tcp, {verdict::deny, "not-allowed"}},
      {"8.8.8.8", 53, udp, {verdict::deny, "not-allowed"}},
      {"10.0.0.1", 443, tcp, {verdict::deny, "not-allowed"}},
  });
  CHECK(p.names_for(ip("192.0.2.50"), t0) == std::vector<std::string>{"tracker.example", "api.example.com"});
}

TEST_CASE("policy on_connect: offline, metadata and private blocks beat allow rules", "[policy]") {
  auto c = config("example.com");
  c.offline = true;
  pol::policy offline(std::move(c));
  learn(offline, "example.com", {"93.184.216.34"});
  check(offline.on_connect(ip("93.184.216.34"), 443, tcp, t0), {verdict::deny, "offline"});
  check(offline.on_connect(ip("1.1.1.1"), 0, icmp, t0), {verdict::deny, "offline"});
  check(offline.on_query("example.com"), {verdict::deny, "offline"});

  c = config("10.0.0.0/8,169.254.169.254,192.168.1.1:80,fd00::/8,fe80::/10,::1,printer.lan");
  c.block_private = c.block_metadata = true;
  pol::policy both(std::move(c));
  learn(both, "printer.lan", {"192.168.1.20"});
  check_connects(both, {
      {"10.1.2.3", 443, tcp, {verdict::deny, "block-private"}},
      {"169.254.169.254", 80, tcp, {verdict::deny, "block-metadata"}},
      {"::ffff:169.254.169.254", 80, tcp, {verdict::deny, "block-metadata"}},
      {"fd00:ec2::254", 80, tcp, {verdict::deny, "block-metadata"}},
      {"192.168.1.1", 80, tcp, {verdict::deny, "block-private"}},
      {"192.168.1.20", 631, tcp, {verdict::deny, "block-private"}},
      {"::ffff:192.168.1.1", 80, tcp, {verdict::deny, "block-private"}},
      {"fe80::1", 22, tcp, {verdict::deny, "block-private"}},
      {"::1", 22, tcp, {verdict::deny, "block-private"}},
      {"1.2.3.4", 443, tcp, {verdict::deny, "not-allowed"}},
  });

  c = config("169.254.0.0/16");
  c.block_metadata = true;
  pol::policy metadata_only(std::move(c));
  check(metadata_only.on_connect(ip("169.254.169.254"), 80, tcp, t0), {verdict::deny, "block-metadata"});
  check(metadata_only.on_connect(ip("169.254.1.1"), 80, tcp, t0),
        {verdict::allow, "allow-rule", "169.254.0.0/16 (--allow)"});

  c = config("");
  c.block_private = true;
  pol::policy private_only(std::move(c));
  check(private_only.on_connect(ip("8.8.8.8"), 53, udp, t0), {verdict::allow, "default-allow"});
  check(private_only.on_connect(ip("100.64.0.1"), 53, udp, t0), {verdict::deny, "block-private"});
  check(private_only.on_connect(ip("169.254.169.254"), 80, tcp, t0), {verdict::deny, "block-private"});
}

TEST_CASE("policy wildcards match subdomains, not the apex", "[policy]") {
  pol::policy p(config("*.example.com"));
  const std::string rule = "*.example.com (--allow)";
  check_queries(p, {
      {"a.example.com", {verdict::allow, "allow-rule", rule}},
      {"a.b.example.com", {verdict::allow, "allow-rule", rule}},
      {"A.Example.COM.", {verdict::allow, "allow-rule", rule}},
      {"example.com", {verdict::deny, "not-allowed"}},
      {"badexample.com", {verdict::deny, "not-allowed"}},
      {"example.com.evil", {verdict::deny, "not-allowed"}},
      {"com", {verdict::deny, "not-allowed"}},
  });
  learn(p, "example.com", {"192.0.2.1"});
  learn(p, "www.example.com", {"192.0.2.2"});
  check(p.on_connect(ip("192.0.2.1"), 443, tcp, t0), {verdict::deny, "not-allowed"});
  check(p.on_connect(ip("192.0.2.2"), 443, tcp, t0), {verdict::allow, "allowed-name", rule, "www.example.com"});

  pol::policy d(config("", "*.example.com"));
  learn(d, "a.example.com", {"192.0.2.3"});
  learn(d, "example.com", {"192.0.2.4"});
  check(d.on_connect(ip("192.0.2.3"), 443, tcp, t0),
        {verdict::deny, "deny-rule", "*.example.com (--deny)", "a.example.com"});
  check(d.on_connect(ip("192.0.2.4"), 443, tcp, t0), {verdict::allow, "default-allow"});
}

TEST_CASE("policy on_query", "[policy]") {
  pol::policy p(config("api.example.com:443,*.cdn.example,tracker.example",
                       "evil.example.com,tracker.example:80,*.ads.example"));
  check_queries(p, {
      {"api.example.com", {verdict::allow, "allow-rule", "api.example.com:443 (--allow)"}},
      {"API.Example.COM.", {verdict::allow, "allow-rule", "api.example.com:443 (--allow)"}},
      {"img.cdn.example", {verdict::allow, "allow-rule", "*.cdn.example (--allow)"}},
      {"cdn.example", {verdict::deny, "not-allowed"}},
      {"evil.example.com", {verdict::deny, "deny-rule", "evil.example.com (--deny)"}},
      {"tracker.example", {verdict::allow, "allow-rule", "tracker.example (--allow)"}},  // deny:80 does not block DNS
      {"x.ads.example", {verdict::deny, "deny-rule", "*.ads.example (--deny)"}},
      {"other.org", {verdict::deny, "not-allowed"}},
  });

  pol::policy by_address(config("10.0.0.0/8,example.com", "evil.example"));
  check_queries(by_address, {
      {"other.org", {verdict::allow, "resolve-only"}},
      {"example.com", {verdict::allow, "allow-rule", "example.com (--allow)"}},
      {"evil.example", {verdict::deny, "deny-rule", "evil.example (--deny)"}},
  });

  auto c = config("", "evil.example");
  c.interactive = true;
  pol::policy interactive(std::move(c));
  check_queries(interactive, {
      {"other.org", {verdict::allow, "resolve-only"}},
      {"evil.example", {verdict::deny, "deny-rule", "evil.example (--deny)"}},
  });

  pol::policy open(config("", "evil.example,ads.example:443"));
  check_queries(open, {
      {"other.org", {verdict::allow, "default-allow"}},
      {"ads.example", {verdict::allow, "default-allow"}},
      {"evil.example", {verdict::deny, "deny-rule", "evil.example (--deny)"}},
  });
}

TEST_CASE("policy learned names expire with their TTL", "[policy]") {
  pol::policy p(config("api.example.com"));
  learn(p, "api.example.com", {"192.0.2.1"}, 60, t0);
  const expect allowed{verdict::allow, "allowed-name", "api.example.com (--allow)", "api.example.com"};
  check(p.on_connect(ip("192.0.2.1"), 443, tcp, t0 + 59s), allowed);
  check(p.on_connect(ip("192.0.2.1"), 443, tcp, t0 + 60s), {verdict::deny, "not-allowed"});
  CHECK(p.names_for(ip("192.0.2.1"), t0 + 30s) == std::vector<std::string>{"api.example.com"});
  CHECK(p.names_for(ip("192.0.2.1"), t0 + 60s).empty());

  learn(p, "api.example.com", {"192.0.2.1"}, 60, t0 + 50s);  // refreshed
  check(p.on_connect(ip("192.0.2.1"), 443, tcp, t0 + 100s), allowed);
  check(p.on_connect(ip("192.0.2.1"), 443, tcp, t0 + 110s), {verdict::deny, "not-allowed"});

  learn(p, "API.Example.COM.", {"192.0.2.2"}, 0, t0);  // TTL 0: one second
  check(p.on_connect(ip("192.0.2.2"), 443, tcp, t0), allowed);
  check(p.on_connect(ip("192.0.2.2"), 443, tcp, t0 + 999ms), allowed);
  check(p.on_connect(ip("192.0.2.2"), 443, tcp, t0 + 1s), {verdict::deny, "not-allowed"});

  learn(p, "api.example.com", {"::ffff:192.0.2.3"}, 60, t0);  // stored as IPv4
  CHECK(p.names_for(ip("192.0.2.3"), t0) == std::vector<std::string>{"api.example.com"});
  check(p.on_connect(ip("::ffff:192.0.2.3"), 443, tcp, t0), allowed);
}

TEST_CASE("policy remembered interactive decisions", "[policy]") {
  auto c = config("", "192.0.2.66,never.example");
  c.interactive = true;
  pol::policy p(std::move(c));
  check(p.on_connect(ip("192.0.2.1"), 443, tcp, t0), {verdict::ask, "ask"});

  p.remember_ip(ip("192.0.2.1"), 443, verdict::allow);
  p.remember_ip(ip("192.0.2.1"), 443, verdict::allow);  // twice is once
  p.remember_ip(ip("192.0.2.2"), std::nullopt, verdict::deny);
  p.remember_ip(ip("192.0.2.3"), std::nullopt, verdict::allow);
  p.remember_ip(ip("192.0.2.3"), 22, verdict::deny);
  p.remember_ip(ip("192.0.2.66"), std::nullopt, verdict::allow);
  p.remember_ip(ip("2001:db8::7"), std::nullopt, verdict::allow);
  p.remember_ip(ip("192.0.2.4"), std::nullopt, verdict::ask);  // ignored
  check_connects(p, {
      {"192.0.2.1", 443, tcp, {verdict::allow, "interactive-allow", "192.0.2.1:443 (interactive)"}},
      {"192.0.2.1", 80, tcp, {verdict::ask, "ask"}},
      {"192.0.2.2", 80, tcp, {verdict::deny, "interactive-deny", "192.0.2.2 (interactive)"}},
      {"192.0.2.2", 0, icmp, {verdict::deny, "interactive-deny", "192.0.2.2 (interactive)"}},
      {"192.0.2.3", 22, tcp, {verdict::deny, "interactive-deny", "192.0.2.3:22 (interactive)"}},
      {"192.0.2.3", 443, tcp, {verdict::allow, "interactive-allow", "192.0.2.3 (interactive)"}},
      {"192.0.2.66", 443, tcp, {verdict::deny, "deny-rule", "192.0.2.66 (--deny)"}},
      {"2001:db8::7", 443, tcp, {verdict::allow, "interactive-allow", "2001:db8::7 (interactive)"}},
      {"2001:db8::8", 443, tcp, {verdict::ask, "ask"}},
      {"192.0.2.4", 443, tcp, {verdict::ask, "ask"}},
  });

  p.remember_domain("Downloads.Example.net.", verdict::allow);
  p.remember_domain("spy.example", verdict::deny);
  p.remember_domain("never.example", verdict::allow);
  const std::string downloads = "downloads.example.net (interactive)";
  check_queries(p, {
      {"downloads.example.net", {verdict::allow, "interactive-allow", downloads}},
      {"spy.example", {verdict::deny, "interactive-deny", "spy.example (interactive)"}},
      {"never.example", {verdict::deny, "deny-rule", "never.example (--deny)"}},
      {"mirror.example.net", {verdict::allow, "resolve-only"}},
  });
  learn(p, "downloads.example.net", {"192.0.2.9"});
  learn(p, "spy.example", {"192.0.2.10"});
  check_connects(p, {
      {"192.0.2.9", 443, tcp, {verdict::allow, "interactive-allow", downloads, "downloads.example.net"}},
      {"192.0.2.10", 443, tcp, {verdict::deny, "interactive-deny", "spy.example (interactive)", "spy.example"}},
      {"192.0.2.11", 443, tcp, {verdict::ask, "ask"}},
  });
}

TEST_CASE("policy learned names are bounded, oldest evicted", "[policy]") {
  pol::learned_names t(3);
  const auto far = t0 + 1h;
  t.learn("a", ip("192.0.2.1"), far, t0);
  t.learn("b", ip("192.0.2.2"), far, t0);
  t.learn("c", ip("192.0.2.3"), far, t0);
  t.learn("d", ip("192.0.2.4"), far, t0);
  CHECK(t.size() == 3);
  CHECK(t.names_for(ip("192.0.2.1"), t0).empty());
  t.learn("b", ip("192.0.2.2"), far, t0);  // refreshed: now the newest
  t.learn("e", ip("192.0.2.5"), far, t0);
  CHECK(t.names_for(ip("192.0.2.3"), t0).empty());
  CHECK(t.names_for(ip("192.0.2.2"), t0) == std::vector<std::string>{"b"});
  CHECK(t.size() == 3);

  t.learn("x", ip("192.0.2.5"), t0 + 1s, t0);
  t.learn("y", ip("192.0.2.5"), far, t0 + 2s);  // drops the expired "x" on the way
  CHECK(t.names_for(ip("192.0.2.5"), t0 + 2s) == std::vector<std::string>{"y", "e"});
  CHECK(t.size() == 3);

  auto c = config("");
  c.learned_limit = 2;
  pol::policy p(std::move(c));
  learn(p, "many.example", {"192.0.2.1", "192.0.2.2", "192.0.2.3"});
  CHECK(p.names_for(ip("192.0.2.1"), t0).empty());
  CHECK(p.names_for(ip("192.0.2.3"), t0) == std::vector<std::string>{"many.example"});

  pol::policy big(config(""));  // the default bound, 65536
  const ip_address base = ip("10.0.0.0");
  std::vector<ip_address> addrs;
  for (std::uint32_t i = 0; i <= 65536; ++i) {
    ip_address a = base;
    a.bytes[1] = static_cast<std::uint8_t>(i >> 16);
    a.bytes[2] = static_cast<std::uint8_t>(i >> 8);
    a.bytes[3] = static_cast<std::uint8_t>(i);
    addrs.push_back(a);
  }
  big.learn("flood.example", addrs, 300, t0);
  CHECK(big.names_for(addrs.front(), t0).empty());
  CHECK(big.names_for(addrs[1], t0) == std::vector<std::string>{"flood.example"});
  CHECK(big.names_for(addrs.back(), t0) == std::vector<std::string>{"flood.example"});
}

TEST_CASE("policy is safe to share between threads", "[policy]") {
  pol::policy p(config("*.example.com"));
  std::atomic<int> allowed{0};
  const ip_address base_a = ip("192.0.2.0"), base_b = ip("198.51.100.0");
  std::vector<std::thread> threads;
  for (int w = 0; w < 4; ++w)
    threads.emplace_back([&, w] {  // no Catch assertions off the main thread
      for (std::uint8_t i = 0; i < 250; ++i) {
        ip_address a = base_a, b = base_b;
        a.bytes[3] = b.bytes[3] = i;
        p.learn("h" + std::to_string(w) + ".example.com", std::span(&a, 1), 60, t0);
        if (p.on_connect(a, 443, tcp, t0).what == verdict::allow) ++allowed;
        p.remember_ip(b, 22, verdict::deny);
        (void)p.names_for(a, t0);
      }
    });
  for (auto& t : threads) t.join();
  CHECK(allowed == 1000);
  CHECK(p.names_for(ip("192.0.2.7"), t0).size() == 4);
  check(p.on_connect(ip("198.51.100.7"), 22, tcp, t0),
        {verdict::deny, "interactive-deny", "198.51.100.7:22 (interactive)"});
}

TEST_CASE("policy: whether a verdict by address can turn around later in the run", "[policy]") {
  CHECK_FALSE(pol::policy(config("")).address_verdicts_can_change());
  CHECK_FALSE(pol::policy(config("198.51.100.0/24", "10.0.0.0/8,192.0.2.1:22")).address_verdicts_can_change());
  CHECK_FALSE(pol::policy(config("*.example.com")).address_verdicts_can_change());  // allow names: not by address
  // A deny rule by name denies an address once a name it matches resolves to it.
  pol::policy by_name(config("198.51.100.0/24", "bad.example"));
  CHECK(by_name.address_verdicts_can_change());
  CHECK(by_name.on_connect(ip("198.51.100.9"), 80, netpen::packet::proto_tcp, t0).what == verdict::allow);
  learn(by_name, "bad.example", {"198.51.100.9"});
  CHECK(by_name.on_connect(ip("198.51.100.9"), 80, netpen::packet::proto_tcp, t0).what == verdict::deny);
  CHECK(pol::policy(config("", "*.bad.example")).address_verdicts_can_change());
  auto asking = config("");
  asking.interactive = true;
  CHECK(pol::policy(asking).address_verdicts_can_change());
}
