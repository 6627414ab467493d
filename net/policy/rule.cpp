// Rule builders, text and matching.
#include "net/policy/rule.hpp"

#include <algorithm>

#include "net/packet/packet_text.hpp"
#include "net/policy/address_class.hpp"

namespace netpen::policy {
namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

unsigned full_length(const packet::ip_address& ip) { return ip.v6 ? 128 : 32; }

rule name_rule(rule_kind kind, std::string_view name, std::optional<std::uint16_t> port) {
  rule r;
  r.kind = kind;
  r.name = canonical_name(name);
  r.port = port;
  r.text = rule_text(r);
  return r;
}

std::string host_text(const rule& r) {
  switch (r.kind) {
    case rule_kind::domain: return r.name;
    case rule_kind::wildcard: return "*." + r.name;
    case rule_kind::address: return packet::to_string(r.address);
    case rule_kind::cidr: return packet::to_string(r.address) + "/" + std::to_string(r.prefix);
  }
  return {};
}

bool is_ip_rule(const rule& r) { return r.kind == rule_kind::address || r.kind == rule_kind::cidr; }

}  // namespace

std::string canonical_name(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  std::string out(name.size(), '\0');
  std::ranges::transform(name, out.begin(), lower);
  return out;
}

rule domain_rule(std::string_view name, std::optional<std::uint16_t> port) {
  return name_rule(rule_kind::domain, name, port);
}

rule wildcard_rule(std::string_view parent, std::optional<std::uint16_t> port) {
  return name_rule(rule_kind::wildcard, parent, port);
}

rule address_rule(const packet::ip_address& ip, unsigned prefix, std::optional<std::uint16_t> port) {
  rule r;
  r.address = ip;
  if (is_v4_mapped(ip) && prefix >= 96) {
    r.address = unmapped(ip);
    prefix -= 96;
  }
  prefix = std::min(prefix, full_length(r.address));
  r.address = network_of(r.address, prefix);
  r.prefix = static_cast<std::uint8_t>(prefix);
  r.kind = prefix == full_length(r.address) ? rule_kind::address : rule_kind::cidr;
  r.port = port;
  r.text = rule_text(r);
  return r;
}

std::string rule_text(const rule& r) {
  std::string host = host_text(r);
  if (!r.port) return host;
  const bool bracket = is_ip_rule(r) && r.address.v6;
  return (bracket ? "[" + host + "]" : host) + ":" + std::to_string(*r.port);
}

std::string describe(const rule& r) { return r.origin.empty() ? r.text : r.text + " (" + r.origin + ")"; }

bool matches_port(const rule& r, std::uint16_t port) { return !r.port || *r.port == port; }

bool matches_name(const rule& r, std::string_view name) {
  if (r.kind == rule_kind::domain) return name == r.name;
  if (r.kind != rule_kind::wildcard) return false;
  return name.size() > r.name.size() + 1 && name.ends_with(r.name) && name[name.size() - r.name.size() - 1] == '.';
}

bool matches_address(const rule& r, const packet::ip_address& ip, std::uint16_t port) {
  return is_ip_rule(r) && matches_port(r, port) && in_prefix(ip, r.address, r.prefix);
}

}  // namespace netpen::policy
