// Test helpers shared by the policy tests (policy_rules_test.cpp,
// policy_test.cpp): protocol numbers, addresses and rules from text, a
// policy's config, learned names, and table-driven verdict checks.
#pragma once
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "app/cli/policy_entry.hpp"
#include "net/policy/address_class.hpp"
#include "net/policy/policy.hpp"

namespace policy_test {

using namespace std::chrono_literals;
using netpen::packet::ip_address;
namespace cli = netpen::app::cli;
namespace pol = netpen::policy;
using pol::verdict;

constexpr std::uint8_t tcp = netpen::packet::proto_tcp;
constexpr std::uint8_t udp = netpen::packet::proto_udp;
constexpr std::uint8_t icmp = netpen::packet::proto_icmp;
constexpr std::uint8_t icmpv6 = netpen::packet::proto_icmpv6;
inline const pol::policy::clock::time_point t0 = pol::policy::clock::time_point{} + 1h;

inline ip_address ip(std::string_view text) {
  auto a = pol::parse_ip(text);
  REQUIRE(a);
  return *a;
}

// Rules as the command line gives them (origin = the flag).
inline std::vector<pol::rule> rules(std::string_view flag, std::string_view list) {
  if (list.empty()) return {};
  auto r = cli::parse_policy_list(flag, list);
  REQUIRE(r);
  return *r;
}

inline pol::policy_config config(std::string_view allow, std::string_view deny = {}) {
  pol::policy_config c;
  c.allow = rules("--allow", allow);
  c.deny = rules("--deny", deny);
  return c;
}

inline void learn(pol::policy& p, std::string_view name, std::initializer_list<const char*> addrs, std::uint32_t ttl = 300,
           pol::policy::clock::time_point now = t0) {
  std::vector<ip_address> list;
  for (const char* a : addrs) list.push_back(ip(a));
  p.learn(name, list, ttl, now);
}

struct expect {
  verdict what;
  std::string reason;
  std::string rule = {};
  std::string name = {};
};

inline void check(const pol::decision& d, const expect& e) {
  CHECK(d.what == e.what);
  CHECK(d.reason == e.reason);
  CHECK(d.rule == e.rule);
  CHECK(d.name == e.name);
}

struct connect_row {
  const char* ip;
  std::uint16_t port;
  std::uint8_t protocol;
  expect want;
};

inline void check_connects(const pol::policy& p, const std::vector<connect_row>& rows,
                    pol::policy::clock::time_point now = t0) {
  for (const auto& r : rows) {
    INFO(r.ip << " port " << r.port << " proto " << int(r.protocol));
    check(p.on_connect(ip(r.ip), r.port, r.protocol, now), r.want);
  }
}

inline void check_queries(const pol::policy& p, const std::vector<std::pair<const char*, expect>>& rows) {
  for (const auto& [name, want] : rows) {
    INFO(name);
    check(p.on_query(name), want);
  }
}

}  // namespace policy_test
