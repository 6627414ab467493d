// [policy][claim] The claimed-name rule (policy::on_claim and friends):
// when names are judged at all, which verdicts by address are final, each
// step of on_claim's order, mismatch against not-allowed, the SNI and Host
// reason codes, ports, wildcards, interactive asking and remembered
// answers, and encrypted DNS (by shipped hostname, by address, and the
// explicit allow that lets one through).
#include <catch2/catch.hpp>

#include <string>

#include "net/policy/encrypted_dns_names.hpp"
#include "net/policy/policy.hpp"
#include "tests/unit/policy_test_util.hpp"

using namespace std::chrono_literals;
using namespace policy_test;
using pol::claim_source;

namespace {

pol::decision claim(const pol::policy& p, std::string_view name, const char* addr, std::uint16_t port = 443,
                    claim_source source = claim_source::sni, std::uint8_t protocol = tcp,
                    pol::policy::clock::time_point now = t0) {
  return p.on_claim(name, source, ip(addr), port, protocol, now);
}

pol::policy interactive(std::string_view allow, std::string_view deny = {}) {
  auto c = config(allow, deny);
  c.interactive = true;
  return pol::policy(std::move(c));
}

}  // namespace

TEST_CASE("policy claim mode: any domain or wildcard rule, not --interactive alone", "[policy][claim]") {
  CHECK_FALSE(pol::policy(config("")).judges_claimed_names());
  CHECK_FALSE(pol::policy(config("203.0.113.0/24,198.51.100.7:443", "192.0.2.1")).judges_claimed_names());
  CHECK(pol::policy(config("web.lab.test")).judges_claimed_names());
  CHECK(pol::policy(config("*.lab.test:443")).judges_claimed_names());
  CHECK(pol::policy(config("", "evil.lab.test")).judges_claimed_names());
  CHECK(pol::policy(config("203.0.113.0/24", "*.evil.test")).judges_claimed_names());
  CHECK_FALSE(interactive("").judges_claimed_names());  // it asks at the SYN: a refusal stays fast
  CHECK(interactive("web.lab.test").judges_claimed_names());
}

TEST_CASE("policy final_by_address: blocks, deny rules by address, encrypted DNS", "[policy][claim]") {
  auto c = config("web.lab.test,10.0.0.53", "192.0.2.66,198.51.100.0/24:443,evil.lab.test");
  c.block_metadata = true;
  c.block_private = true;
  pol::policy p(std::move(c));
  learn(p, "evil.lab.test", {"203.0.113.99"});
  learn(p, "web.lab.test", {"203.0.113.10"});
  auto final_at = [&](const char* a, std::uint16_t port) {
    return pol::policy::final_by_address(p.on_connect(ip(a), port, tcp, t0));
  };
  CHECK(final_at("169.254.169.254", 80));  // block-metadata
  CHECK(final_at("10.0.0.1", 80));         // block-private
  CHECK(final_at("192.0.2.66", 443));      // deny rule by address
  CHECK(final_at("198.51.100.3", 443));    // deny rule by CIDR and port
  CHECK(final_at("8.8.8.8", 443));         // encrypted DNS by address
  CHECK(final_at("203.0.113.77", 853));    // DNS over TLS
  CHECK_FALSE(final_at("198.51.100.3", 80));
  CHECK_FALSE(final_at("203.0.113.99", 443));  // denied through a learned name: the claim decides
  CHECK_FALSE(final_at("203.0.113.10", 443));  // allowed
  CHECK_FALSE(final_at("203.0.113.50", 443));  // not allowed: the claim decides

  auto off = config("web.lab.test");
  off.offline = true;
  pol::policy offline(std::move(off));
  CHECK(pol::policy::final_by_address(offline.on_connect(ip("203.0.113.10"), 443, tcp, t0)));
  CHECK_FALSE(pol::policy::final_by_address({verdict::allow, "allow-rule", {}, {}}));
  CHECK_FALSE(pol::policy::final_by_address({verdict::ask, "ask", {}, {}}));
  CHECK_FALSE(pol::policy::final_by_address({verdict::deny, "interactive-deny", {}, {}}));
  CHECK_FALSE(pol::policy::final_by_address({verdict::deny, "not-allowed", {}, {}}));
}

TEST_CASE("policy on_claim: an allowed name only at its own addresses", "[policy][claim]") {
  pol::policy p(config("web.lab.test"));
  learn(p, "web.lab.test", {"203.0.113.10", "2001:db8::10"});
  const std::string web = "web.lab.test (--allow)";
  check(claim(p, "web.lab.test", "203.0.113.10"), {verdict::allow, "allowed-name", web, "web.lab.test"});
  check(claim(p, "WEB.lab.test.", "::ffff:203.0.113.10"), {verdict::allow, "allowed-name", web, "web.lab.test"});
  check(claim(p, "web.lab.test", "2001:db8::10"), {verdict::allow, "allowed-name", web, "web.lab.test"});
  // Pinned to an address the name does not resolve to: mismatch, by source.
  check(claim(p, "web.lab.test", "203.0.113.30"), {verdict::deny, "sni-mismatch", web, "web.lab.test"});
  check(claim(p, "web.lab.test", "203.0.113.30", 80, claim_source::http_host),
        {verdict::deny, "host-mismatch", web, "web.lab.test"});
  // Fronting: another name at the allowed address.
  check(claim(p, "evil.lab.test", "203.0.113.10"), {verdict::deny, "sni-not-allowed", {}, "evil.lab.test"});
  check(claim(p, "evil.lab.test", "203.0.113.10", 80, claim_source::http_host),
        {verdict::deny, "host-not-allowed", {}, "evil.lab.test"});
  // Once the run learns the binding (the resolver asked), the pinned flow passes.
  CHECK_FALSE(p.resolves_to("web.lab.test", ip("203.0.113.30"), t0));
  learn(p, "web.lab.test", {"203.0.113.30"});
  CHECK(p.resolves_to("Web.Lab.Test", ip("203.0.113.30"), t0));
  check(claim(p, "web.lab.test", "203.0.113.30"), {verdict::allow, "allowed-name", web, "web.lab.test"});
  // Bindings expire with their TTL.
  CHECK_FALSE(p.resolves_to("web.lab.test", ip("203.0.113.30"), t0 + 301s));
  check(claim(p, "web.lab.test", "203.0.113.30", 443, claim_source::sni, tcp, t0 + 301s),
        {verdict::deny, "sni-mismatch", web, "web.lab.test"});
}

TEST_CASE("policy on_claim: the order of the steps", "[policy][claim]") {
  pol::policy p(config("*.lab.test,203.0.113.0/24,bad.lab.test", "bad.lab.test,*.evil.test:443"));
  learn(p, "bad.lab.test", {"203.0.113.66"});
  learn(p, "a.evil.test", {"203.0.113.67"});
  // 1. a deny rule for the name beats an allow rule for it and an allowed address.
  check(claim(p, "bad.lab.test", "203.0.113.66"), {verdict::deny, "deny-rule", "bad.lab.test (--deny)", "bad.lab.test"});
  check(claim(p, "a.evil.test", "203.0.113.67"), {verdict::deny, "deny-rule", "*.evil.test:443 (--deny)", "a.evil.test"});
  // ... port matching: the deny rule is for 443 only; 80 falls to the address rule.
  check(claim(p, "a.evil.test", "203.0.113.67", 80, claim_source::http_host),
        {verdict::allow, "allow-rule", "203.0.113.0/24 (--allow)", "a.evil.test"});
  // 3. an allow rule for the name decides before the address rule (mismatch even
  // though the address itself is allowed).
  check(claim(p, "new.lab.test", "203.0.113.5"), {verdict::deny, "sni-mismatch", "*.lab.test (--allow)", "new.lab.test"});
  learn(p, "new.lab.test", {"203.0.113.5"});
  check(claim(p, "new.lab.test", "203.0.113.5"), {verdict::allow, "allowed-name", "*.lab.test (--allow)", "new.lab.test"});
  // 4. no rule for the name: the address rule allows.
  check(claim(p, "other.example", "203.0.113.5"), {verdict::allow, "allow-rule", "203.0.113.0/24 (--allow)", "other.example"});
  // 6. the default.
  check(claim(p, "other.example", "198.51.100.5"), {verdict::deny, "sni-not-allowed", {}, "other.example"});
  // 0. blocks and deny address rules still win (they are final by address anyway).
  auto c = config("web.lab.test", "192.0.2.66");
  c.block_private = true;
  pol::policy blocked(std::move(c));
  learn(blocked, "web.lab.test", {"10.0.0.5", "192.0.2.66"});
  check(claim(blocked, "web.lab.test", "10.0.0.5"), {verdict::deny, "block-private", {}, "web.lab.test"});
  check(claim(blocked, "web.lab.test", "192.0.2.66"), {verdict::deny, "deny-rule", "192.0.2.66 (--deny)", "web.lab.test"});
}

TEST_CASE("policy on_claim: ports and wildcards of allow rules", "[policy][claim]") {
  pol::policy p(config("web.lab.test:443,*.cdn.test"));
  learn(p, "web.lab.test", {"203.0.113.10"});
  learn(p, "img.cdn.test", {"203.0.113.20"});
  learn(p, "cdn.test", {"203.0.113.21"});
  check(claim(p, "web.lab.test", "203.0.113.10", 443),
        {verdict::allow, "allowed-name", "web.lab.test:443 (--allow)", "web.lab.test"});
  check(claim(p, "web.lab.test", "203.0.113.10", 80, claim_source::http_host),
        {verdict::deny, "host-not-allowed", {}, "web.lab.test"});
  check(claim(p, "img.cdn.test", "203.0.113.20"), {verdict::allow, "allowed-name", "*.cdn.test (--allow)", "img.cdn.test"});
  check(claim(p, "a.b.cdn.test", "203.0.113.20"), {verdict::deny, "sni-mismatch", "*.cdn.test (--allow)", "a.b.cdn.test"});
  check(claim(p, "cdn.test", "203.0.113.21"), {verdict::deny, "sni-not-allowed", {}, "cdn.test"});
  // QUIC: UDP to 443, judged the same way.
  check(claim(p, "img.cdn.test", "203.0.113.20", 443, claim_source::sni, udp),
        {verdict::allow, "allowed-name", "*.cdn.test (--allow)", "img.cdn.test"});
}

TEST_CASE("policy on_claim: default allow with a deny list", "[policy][claim]") {
  pol::policy p(config("", "evil.lab.test"));
  check(claim(p, "evil.lab.test", "203.0.113.10"), {verdict::deny, "deny-rule", "evil.lab.test (--deny)", "evil.lab.test"});
  check(claim(p, "web.lab.test", "203.0.113.10"), {verdict::allow, "default-allow", {}, "web.lab.test"});
  // No allow-list: encrypted DNS is not refused (the warning stays).
  check(claim(p, "dns.google", "8.8.8.8"), {verdict::allow, "default-allow", {}, "dns.google"});
  check(p.on_connect(ip("8.8.8.8"), 443, tcp, t0), {verdict::allow, "default-allow"});
}

TEST_CASE("policy on_claim: --interactive asks with the name, remembered answers", "[policy][claim]") {
  auto p = interactive("web.lab.test", "evil.lab.test");
  learn(p, "web.lab.test", {"203.0.113.10"});
  check(claim(p, "other.lab.test", "203.0.113.10"), {verdict::ask, "ask", {}, "other.lab.test"});
  check(claim(p, "web.lab.test", "203.0.113.10"), {verdict::allow, "allowed-name", "web.lab.test (--allow)", "web.lab.test"});
  check(claim(p, "evil.lab.test", "203.0.113.10"), {verdict::deny, "deny-rule", "evil.lab.test (--deny)", "evil.lab.test"});

  // 5. remembered: the claimed name first, then the address.
  p.remember_domain("shop.lab.test", verdict::allow);
  p.remember_domain("spy.lab.test", verdict::deny);
  p.remember_ip(ip("203.0.113.40"), std::nullopt, verdict::allow);
  p.remember_ip(ip("203.0.113.41"), std::nullopt, verdict::deny);
  learn(p, "shop.lab.test", {"203.0.113.41"});
  const std::string shop = "shop.lab.test (interactive)";
  check(claim(p, "shop.lab.test", "203.0.113.41"), {verdict::allow, "interactive-allow", shop, "shop.lab.test"});
  check(claim(p, "shop.lab.test", "203.0.113.40"), {verdict::deny, "sni-mismatch", shop, "shop.lab.test"});
  check(claim(p, "spy.lab.test", "203.0.113.40"),
        {verdict::deny, "interactive-deny", "spy.lab.test (interactive)", "spy.lab.test"});
  check(claim(p, "x.lab.test", "203.0.113.40"),
        {verdict::allow, "interactive-allow", "203.0.113.40 (interactive)", "x.lab.test"});
  check(claim(p, "x.lab.test", "203.0.113.41"),
        {verdict::deny, "interactive-deny", "203.0.113.41 (interactive)", "x.lab.test"});
  check(claim(p, "x.lab.test", "203.0.113.42"), {verdict::ask, "ask", {}, "x.lab.test"});
}

TEST_CASE("policy encrypted DNS: the shipped hostname list", "[policy][claim]") {
  for (const char* n : {"dns.google", "cloudflare-dns.com", "mozilla.cloudflare-dns.com", "one.one.one.one",
                        "dns.quad9.net", "doh.opendns.com", "dns.adguard-dns.com", "dns.nextdns.io",
                        "doh.cleanbrowsing.org", "abc123.dns.nextdns.io", "team.cloudflare-gateway.com"}) {
    INFO(n);
    CHECK(pol::encrypted_dns_host_for(n));
  }
  for (const char* n : {"google.com", "www.cloudflare.com", "nextdns.io", "cloudflare-gateway.com", "quad9.net",
                        "xdns.google", "dns.google.evil.test"}) {
    INFO(n);
    CHECK_FALSE(pol::encrypted_dns_host_for(n));
  }
  CHECK(pol::encrypted_dns_host_for("dns.google")->provider == "Google Public DNS");
  CHECK(pol::encrypted_dns_hosts().size() >= 10);
  for (const auto& h : pol::encrypted_dns_hosts()) CHECK(pol::canonical_name(h.name) == h.name);
}

TEST_CASE("policy encrypted DNS: refused by name under an allow-list unless named exactly", "[policy][claim]") {
  pol::policy p(config("*.google,*.cloudflare-dns.com,web.lab.test,dns.quad9.net:443,203.0.113.0/24"));
  learn(p, "dns.quad9.net", {"203.0.113.9"});
  // A wildcard does not name a DoH host; neither does an allowed address.
  check(claim(p, "dns.google", "203.0.113.8"), {verdict::deny, "encrypted-dns", {}, "dns.google"});
  check(claim(p, "mozilla.cloudflare-dns.com", "203.0.113.8"), {verdict::deny, "encrypted-dns", {}, "mozilla.cloudflare-dns.com"});
  check(claim(p, "dns.nextdns.io", "203.0.113.8"), {verdict::deny, "encrypted-dns", {}, "dns.nextdns.io"});
  // The exact domain rule lets it through (at its own address, port matching).
  check(claim(p, "dns.quad9.net", "203.0.113.9"),
        {verdict::allow, "allowed-name", "dns.quad9.net:443 (--allow)", "dns.quad9.net"});
  check(claim(p, "dns.quad9.net", "203.0.113.9", 853), {verdict::deny, "encrypted-dns", {}, "dns.quad9.net"});
  // An HTTP Host counts too.
  check(claim(p, "dns.google", "203.0.113.8", 80, claim_source::http_host),
        {verdict::deny, "encrypted-dns", {}, "dns.google"});
  // A deny rule for the name comes first.
  pol::policy denied(config("web.lab.test", "dns.google"));
  check(claim(denied, "dns.google", "203.0.113.8"), {verdict::deny, "deny-rule", "dns.google (--deny)", "dns.google"});
  // Interactive with an allow-list refuses as well; without one it asks.
  check(claim(interactive("web.lab.test"), "dns.google", "203.0.113.8"), {verdict::deny, "encrypted-dns", {}, "dns.google"});
  check(claim(interactive(""), "dns.google", "203.0.113.8"), {verdict::ask, "ask", {}, "dns.google"});
  // An explicit default allow is no allow-list.
  auto open = config("web.lab.test");
  open.default_allow = true;
  check(claim(pol::policy(std::move(open)), "dns.google", "203.0.113.8"),
        {verdict::allow, "default-allow", {}, "dns.google"});
}

TEST_CASE("policy encrypted DNS: refused by address under an allow-list unless named exactly", "[policy][claim]") {
  pol::policy p(
      config("web.lab.test,*.wild.test,8.8.0.0/16,1.1.1.1,[2606:4700:4700::1111]:443,dns.google,203.0.113.53"));
  learn(p, "dns.google", {"8.8.4.4"});
  learn(p, "x.wild.test", {"8.8.8.8"});  // a wildcard's name at a resolver's address is not enough
  check_connects(p, {
      {"8.8.8.8", 443, tcp, {verdict::deny, "encrypted-dns"}},
      {"8.8.8.8", 443, udp, {verdict::deny, "encrypted-dns"}},
      {"8.8.8.8", 80, tcp, {verdict::allow, "allow-rule", "8.8.0.0/16 (--allow)"}},
      {"8.8.8.8", 53, udp, {verdict::allow, "allow-rule", "8.8.0.0/16 (--allow)"}},
      {"8.8.4.4", 443, tcp, {verdict::allow, "allow-rule", "8.8.0.0/16 (--allow)"}},  // named: dns.google
      {"1.1.1.1", 443, tcp, {verdict::allow, "allow-rule", "1.1.1.1 (--allow)"}},
      {"1.1.1.1", 853, tcp, {verdict::allow, "allow-rule", "1.1.1.1 (--allow)"}},
      {"1.0.0.1", 443, tcp, {verdict::deny, "encrypted-dns"}},
      {"2606:4700:4700::1111", 443, tcp, {verdict::allow, "allow-rule", "[2606:4700:4700::1111]:443 (--allow)"}},
      {"::ffff:8.8.8.8", 443, tcp, {verdict::deny, "encrypted-dns"}},
      {"203.0.113.53", 853, tcp, {verdict::allow, "allow-rule", "203.0.113.53 (--allow)"}},
      {"203.0.113.54", 853, tcp, {verdict::deny, "encrypted-dns"}},
      {"8.8.8.8", 0, icmp, {verdict::allow, "allow-rule", "8.8.0.0/16 (--allow)"}},
  });
  // By claim: another name at a resolver's address is refused too.
  check(claim(p, "x.wild.test", "8.8.8.8"), {verdict::deny, "encrypted-dns", {}, "x.wild.test"});
  check(claim(p, "other.test", "8.8.8.8"), {verdict::deny, "encrypted-dns", {}, "other.test"});
  check(claim(p, "dns.google", "8.8.4.4"), {verdict::allow, "allowed-name", "dns.google (--allow)", "dns.google"});
  check(claim(p, "web.lab.test", "1.1.1.1"), {verdict::deny, "sni-mismatch", "web.lab.test (--allow)", "web.lab.test"});
  check(claim(p, "other.test", "1.1.1.1"), {verdict::allow, "allow-rule", "1.1.1.1 (--allow)", "other.test"});
  // Without an allow-list nothing is refused for it.
  pol::policy open(config("", "evil.test"));
  check(open.on_connect(ip("8.8.8.8"), 443, tcp, t0), {verdict::allow, "default-allow"});
}
