// [policy] The policy's vocabulary (net/policy, app/cli/policy_entry): rule
// parsing into policy rules (text, origin, file:line errors), address
// literals and prefixes, address classes, encrypted-DNS detection.
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "app/cli/policy_entry.hpp"
#include "net/policy/address_class.hpp"
#include "net/policy/policy.hpp"
#include "tests/unit/policy_test_util.hpp"

using namespace policy_test;

TEST_CASE("policy rules: the entry parser fills normalised text and origin", "[policy]") {
  auto list = rules("--allow", "Example.COM.,*.EXAMPLE.org:443, 10.1.2.3/8,[::ffff:10.0.0.0/104]:80,::ffff:1.2.3.4,"
                               "2001:DB8::1,2001:db8::1/32,1.2.3.4/32");
  const std::vector<std::pair<std::string, pol::rule_kind>> want{
      {"example.com", pol::rule_kind::domain},  {"*.example.org:443", pol::rule_kind::wildcard},
      {"10.0.0.0/8", pol::rule_kind::cidr},     {"10.0.0.0/8:80", pol::rule_kind::cidr},
      {"1.2.3.4", pol::rule_kind::address},     {"2001:db8::1", pol::rule_kind::address},
      {"2001:db8::/32", pol::rule_kind::cidr},  {"1.2.3.4", pol::rule_kind::address},
  };
  REQUIRE(list.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    INFO(want[i].first);
    CHECK(list[i].text == want[i].first);
    CHECK(list[i].kind == want[i].second);
    CHECK(list[i].origin == "--allow");
  }
  CHECK(list[1].name == "example.org");
  CHECK(list[3].address == ip("10.0.0.0"));
  CHECK(list[3].prefix == 8);

  auto file = cli::parse_policy_file("--deny-file", "deny.txt", "# scope\n\nexample.com  # apex\n  10.0.0.0/8:22\r\n");
  REQUIRE(file);
  REQUIRE(file->size() == 2);
  CHECK(pol::describe(file->at(0)) == "example.com (deny.txt:3)");
  CHECK(pol::describe(file->at(1)) == "10.0.0.0/8:22 (deny.txt:4)");
}

TEST_CASE("policy rules: bad entries are rejected with flag, file and line", "[policy]") {
  const std::vector<std::pair<std::string, std::string>> files{
      {"ok.example\nexa mple.com\n", "deny.txt:2: 'exa mple.com' is not a domain, *.domain, IP address or CIDR"},
      {"10.0.0.0/33", "deny.txt:1: '10.0.0.0/33': prefix length 33 is more than 32"},
      {"# c\n\n[2001:db8::1]:0\n", "deny.txt:3: '[2001:db8::1]:0': '0' is not a port (1-65535)"},
      {"a.example\n[2001:db8::1\n", "deny.txt:2: '[2001:db8::1': missing ']'"},
      {"10.0.0.0/x", "deny.txt:1: '10.0.0.0/x': 'x' is not a prefix length"},
      {"2001:db8::/129", "deny.txt:1: '2001:db8::/129': prefix length 129 is more than 128"},
      {"[1.2.3.4]:80", "deny.txt:1: '[1.2.3.4]:80' is not a domain, *.domain, IP address or CIDR"},
      {"example.com:http", "deny.txt:1: 'example.com:http': 'http' is not a port (1-65535)"},
      {"*.\n", "deny.txt:1: '*.' is not a domain"},
  };
  for (const auto& [contents, message] : files) {
    INFO(contents);
    auto r = cli::parse_policy_file("--deny-file", "deny.txt", contents);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == "bad-value");
    CHECK(r.error().message.starts_with("--deny-file: " + message));
  }
  auto list = cli::parse_policy_list("--allow", "a.example,,b.example");
  REQUIRE_FALSE(list);
  CHECK(list.error().message == "--allow: empty entry in 'a.example,,b.example'");
}

TEST_CASE("policy address helpers: literals, prefixes, v4-mapped", "[policy]") {
  CHECK_FALSE(pol::parse_ip("1.2.3"));
  CHECK_FALSE(pol::parse_ip("example.com"));
  CHECK_FALSE(pol::parse_ip("[::1]"));
  CHECK(pol::parse_ip("::1")->v6);
  CHECK_FALSE(pol::parse_ip("1.2.3.4")->v6);
  CHECK(pol::network_of(ip("10.1.2.3"), 8) == ip("10.0.0.0"));
  CHECK(pol::network_of(ip("172.31.255.255"), 12) == ip("172.16.0.0"));
  CHECK(pol::network_of(ip("2001:db8:abcd::1"), 36) == ip("2001:db8:a000::"));
  CHECK(pol::network_of(ip("1.2.3.4"), 0) == ip("0.0.0.0"));
  CHECK(pol::in_prefix(ip("10.9.9.9"), ip("10.0.0.0"), 8));
  CHECK_FALSE(pol::in_prefix(ip("11.0.0.0"), ip("10.0.0.0"), 8));
  CHECK_FALSE(pol::in_prefix(ip("::a00:1"), ip("10.0.0.0"), 8));  // families never mix
  CHECK(pol::is_v4_mapped(ip("::ffff:1.2.3.4")));
  CHECK_FALSE(pol::is_v4_mapped(ip("::1.2.3.4")));
  CHECK(pol::unmapped(ip("::ffff:1.2.3.4")) == ip("1.2.3.4"));
  CHECK(pol::unmapped(ip("2001:db8::1")) == ip("2001:db8::1"));
}

TEST_CASE("policy address classes: private and metadata", "[policy]") {
  struct row {
    const char* ip;
    bool is_private, is_metadata;
  };
  const std::vector<row> rows{
      {"0.0.0.0", true, false},          {"0.1.2.3", true, false},          {"1.0.0.0", false, false},
      {"10.0.0.1", true, false},         {"10.255.255.255", true, false},   {"11.0.0.1", false, false},
      {"100.63.255.255", false, false},  {"100.64.0.1", true, false},       {"100.127.255.255", true, false},
      {"100.128.0.0", false, false},     {"127.0.0.1", true, false},        {"127.255.0.9", true, false},
      {"169.254.1.1", true, false},      {"169.254.169.254", true, true},   {"169.254.169.253", true, false},
      {"172.15.255.255", false, false},  {"172.16.0.1", true, false},       {"172.31.255.255", true, false},
      {"172.32.0.0", false, false},      {"192.168.1.1", true, false},      {"192.169.0.0", false, false},
      {"8.8.8.8", false, false},         {"93.184.216.34", false, false},   {"::", true, false},
      {"::1", true, false},              {"::2", false, false},             {"fc00::1", true, false},
      {"fd12:3456::1", true, false},     {"fd00:ec2::254", true, true},     {"fd00:ec2::253", true, false},
      {"fe80::1", true, false},          {"febf:ffff::1", true, false},     {"fec0::1", false, false},
      {"2001:db8::1", false, false},     {"2606:4700:4700::1111", false, false},
      {"::ffff:10.0.0.1", true, false},  {"::ffff:127.0.0.1", true, false}, {"::ffff:169.254.169.254", true, true},
      {"::ffff:8.8.8.8", false, false},
  };
  for (const auto& r : rows) {
    INFO(r.ip);
    CHECK(pol::is_private(ip(r.ip)) == r.is_private);
    CHECK(pol::is_metadata(ip(r.ip)) == r.is_metadata);
  }
}

TEST_CASE("policy encrypted DNS endpoints", "[policy]") {
  struct row {
    const char* ip;
    std::uint16_t port;
    std::uint8_t protocol;
    std::optional<std::string> want;
  };
  const std::vector<row> rows{
      {"1.1.1.1", 443, tcp, "Cloudflare DNS over HTTPS"},
      {"1.0.0.1", 443, tcp, "Cloudflare DNS over HTTPS"},
      {"2606:4700:4700::1001", 443, tcp, "Cloudflare DNS over HTTPS"},
      {"::ffff:1.1.1.1", 443, tcp, "Cloudflare DNS over HTTPS"},
      {"8.8.4.4", 443, udp, "Google DNS over HTTPS (HTTP/3)"},
      {"2001:4860:4860::8888", 443, tcp, "Google DNS over HTTPS"},
      {"9.9.9.9", 853, tcp, "Quad9 DNS over TLS"},
      {"149.112.112.112", 443, tcp, "Quad9 DNS over HTTPS"},
      {"2620:fe::9", 853, udp, "Quad9 DNS over QUIC"},
      {"208.67.220.220", 443, tcp, "OpenDNS DNS over HTTPS"},
      {"94.140.15.15", 853, tcp, "AdGuard DNS over TLS"},
      {"203.0.113.5", 853, tcp, "DNS over TLS"},
      {"2001:db8::53", 853, udp, "DNS over QUIC"},
      {"203.0.113.5", 443, tcp, std::nullopt},
      {"1.1.1.1", 53, udp, std::nullopt},
      {"1.1.1.1", 80, tcp, std::nullopt},
      {"1.1.1.1", 0, icmp, std::nullopt},
      {"1.1.1.2", 443, tcp, std::nullopt},
  };
  for (const auto& r : rows) {
    INFO(r.ip << ":" << r.port << " proto " << int(r.protocol));
    CHECK(pol::encrypted_dns_endpoint(ip(r.ip), r.port, r.protocol) == r.want);
  }
}
