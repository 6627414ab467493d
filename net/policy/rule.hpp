// One allow/deny rule (--allow, --deny and their -file forms, or a decision
// remembered in an interactive run): what it matches, the port it is limited
// to, and how to show it. Rules are built here already normalised; the
// entry syntax and its errors live in app/cli/policy_entry.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "net/packet/frame.hpp"

namespace netpen::policy {

enum class rule_kind {
  domain,    // exactly `name`
  wildcard,  // "*.name": subdomains of `name`, not `name` itself
  address,   // one IP address (prefix 32 or 128)
  cidr,      // an IPv4 or IPv6 network
};

struct rule {
  rule_kind kind = rule_kind::domain;
  std::string name;              // domain/wildcard: lowercase, no "*." and no trailing dot
  packet::ip_address address{};  // address/cidr: the network, host bits cleared
  std::uint8_t prefix = 0;       // address/cidr: prefix length (32/128 for one address)
  std::optional<std::uint16_t> port;  // unset: every port (and ICMP)
  std::string text;              // as written, normalised: "*.example.com:443", "10.0.0.0/8", "[2001:db8::1]:443"
  std::string origin;            // where it came from: "--allow", "allow.txt:3", "interactive"
};

// A DNS name as the policy compares it: lowercase, without a trailing dot.
std::string canonical_name(std::string_view name);

// Builders; origin is left empty for the caller. An IPv4-mapped IPv6 address
// or network (prefix >= 96) becomes its IPv4 form, so it matches IPv4 flows.
rule domain_rule(std::string_view name, std::optional<std::uint16_t> port = {});
rule wildcard_rule(std::string_view parent, std::optional<std::uint16_t> port = {});
rule address_rule(const packet::ip_address& ip, unsigned prefix, std::optional<std::uint16_t> port = {});

// The normalised text of r from its fields (what the builders put in r.text).
std::string rule_text(const rule& r);
// "text (origin)", or just the text when the origin is empty; for decisions.
std::string describe(const rule& r);

// Port 0 (ICMP) matches only rules without a port.
bool matches_port(const rule& r, std::uint16_t port);
// A domain or wildcard rule against a canonical name; the port is not looked at.
bool matches_name(const rule& r, std::string_view name);
// An address or CIDR rule against ip:port (ip already unmapped).
bool matches_address(const rule& r, const packet::ip_address& ip, std::uint16_t port);

}  // namespace netpen::policy
