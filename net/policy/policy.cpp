// The policy engine's decisions (see the theory of operation in policy.hpp).
#include "net/policy/policy.hpp"

#include <algorithm>
#include <mutex>

#include "net/policy/address_class.hpp"
#include "net/policy/encrypted_dns_names.hpp"

namespace netpen::policy {
namespace {

struct match {
  const rule* r = nullptr;
  std::string name;  // the learned name a name rule matched through
};

decision decide(verdict v, std::string_view why, const match& m = {}) {
  return decision{v, std::string(why), m.r ? describe(*m.r) : std::string(), m.name};
}

std::optional<match> first_address(const std::vector<rule>& rules, const packet::ip_address& ip, std::uint16_t port) {
  for (const auto& r : rules)
    if (matches_address(r, ip, port)) return match{&r, {}};
  return std::nullopt;
}

std::optional<match> first_named(const std::vector<rule>& rules, const std::vector<std::string>& names,
                                 std::uint16_t port) {
  for (const auto& r : rules)
    for (const auto& n : names)
      if (matches_port(r, port) && matches_name(r, n)) return match{&r, n};
  return std::nullopt;
}

std::optional<match> first_either(const std::vector<rule>& rules, const packet::ip_address& ip, std::uint16_t port,
                                  const std::vector<std::string>& names) {
  if (auto m = first_address(rules, ip, port)) return m;
  return first_named(rules, names, port);
}

// For a DNS question: name rules only; portless_only skips rules with a port.
std::optional<match> first_for_query(const std::vector<rule>& rules, std::string_view name, bool portless_only) {
  for (const auto& r : rules)
    if (!(portless_only && r.port) && matches_name(r, name)) return match{&r, {}};
  return std::nullopt;
}

bool derive_default_allow(const policy_config& c) {
  if (c.interactive) return false;
  return c.default_allow.value_or(c.allow.empty());
}

bool has_address_rule(const std::vector<rule>& rules) {
  for (const auto& r : rules)
    if (r.kind == rule_kind::address || r.kind == rule_kind::cidr) return true;
  return false;
}

bool names_a_domain(const std::vector<rule>& rules) {
  return std::ranges::any_of(rules, [](const rule& r) { return r.kind == rule_kind::domain || r.kind == rule_kind::wildcard; });
}

// An allow rule of exactly this one address (prefix 32/128), port matching.
bool names_address_exactly(const std::vector<rule>& rules, const packet::ip_address& ip, std::uint16_t port) {
  return std::ranges::any_of(rules, [&](const rule& r) { return r.kind == rule_kind::address && matches_address(r, ip, port); });
}

// An exact domain rule (not a wildcard) for this name, port matching.
bool names_host_exactly(const std::vector<rule>& rules, std::string_view name, std::uint16_t port) {
  return std::ranges::any_of(rules, [&](const rule& r) {
    return r.kind == rule_kind::domain && r.name == name && matches_port(r, port);
  });
}

bool contains(const std::vector<std::string>& names, std::string_view name) {
  return std::ranges::find(names, name) != names.end();
}

std::uint16_t port_for(std::uint8_t protocol, std::uint16_t port) {
  return protocol == packet::proto_icmp || protocol == packet::proto_icmpv6 ? 0 : port;
}

}  // namespace

policy::policy(policy_config c)
    : config_(std::move(c)),
      default_allow_(derive_default_allow(config_)),
      any_address_allow_(has_address_rule(config_.allow)),
      claim_mode_(names_a_domain(config_.allow) || names_a_domain(config_.deny)),
      refuses_encrypted_dns_(!default_allow_ && !config_.allow.empty()),
      learned_(config_.learned_limit) {}

decision policy::on_query(std::string_view name) const {
  if (config_.offline) return decide(verdict::deny, reason::offline);
  const std::string n = canonical_name(name);
  if (auto m = first_for_query(config_.deny, n, true)) return decide(verdict::deny, reason::deny_rule, *m);
  if (auto m = first_for_query(config_.allow, n, false)) return decide(verdict::allow, reason::allow_rule, *m);
  {
    std::shared_lock lock(mutex_);
    if (auto m = first_for_query(remembered_deny_, n, false))
      return decide(verdict::deny, reason::interactive_deny, *m);
    if (auto m = first_for_query(remembered_allow_, n, false))
      return decide(verdict::allow, reason::interactive_allow, *m);
  }
  return fallback_query();
}

void policy::learn(std::string_view name, std::span<const packet::ip_address> addresses, std::uint32_t ttl_s,
                   clock::time_point now) {
  const std::string n = canonical_name(name);
  const auto expires = now + std::chrono::seconds(ttl_s == 0 ? 1 : ttl_s);
  std::unique_lock lock(mutex_);
  for (const auto& a : addresses) learned_.learn(n, unmapped(a), expires, now);
}

decision policy::on_connect(const packet::ip_address& ip, std::uint16_t port, std::uint8_t protocol,
                            clock::time_point now) const {
  const auto dst = unmapped(ip);
  if (auto d = blocked(dst)) return *d;
  const auto p = port_for(protocol, port);
  std::shared_lock lock(mutex_);
  const auto names = learned_.names_for(dst, now);
  if (auto m = first_either(config_.deny, dst, p, names)) return decide(verdict::deny, reason::deny_rule, *m);
  if (auto d = encrypted_dns_by_address(dst, port, protocol, names)) return *d;
  if (auto m = first_address(config_.allow, dst, p)) return decide(verdict::allow, reason::allow_rule, *m);
  if (auto m = first_named(config_.allow, names, p)) return decide(verdict::allow, reason::allowed_name, *m);
  if (auto d = by_memory(dst, p, names)) return *d;
  return fallback_connect();
}

bool policy::judges_claimed_names() const { return claim_mode_; }

bool policy::final_by_address(const decision& d) {
  if (d.what != verdict::deny) return false;
  if (d.reason == reason::offline || d.reason == reason::block_metadata || d.reason == reason::block_private ||
      d.reason == reason::encrypted_dns)
    return true;
  return d.reason == reason::deny_rule && d.name.empty();  // by address or CIDR, not through a learned name
}

decision policy::on_claim(std::string_view name, claim_source source, const packet::ip_address& ip,
                          std::uint16_t port, std::uint8_t protocol, clock::time_point now) const {
  const auto dst = unmapped(ip);
  const std::string n = canonical_name(name);
  auto named = [&n](decision d) {
    d.name = n;
    return d;
  };
  if (auto d = blocked(dst)) return named(*d);
  const auto p = port_for(protocol, port);
  const std::vector<std::string> claimed{n};
  std::shared_lock lock(mutex_);
  if (auto m = first_address(config_.deny, dst, p)) return named(decide(verdict::deny, reason::deny_rule, *m));
  if (auto m = first_named(config_.deny, claimed, p)) return decide(verdict::deny, reason::deny_rule, *m);
  if (auto d = encrypted_dns_by_claim(n, dst, port, protocol)) return named(*d);
  const bool resolves = contains(learned_.names_for(dst, now), n);
  if (auto m = first_named(config_.allow, claimed, p))
    return resolves ? decide(verdict::allow, reason::allowed_name, *m) : decide(verdict::deny, mismatch(source), *m);
  if (auto m = first_address(config_.allow, dst, p)) return named(decide(verdict::allow, reason::allow_rule, *m));
  if (auto m = first_named(remembered_deny_, claimed, p)) return decide(verdict::deny, reason::interactive_deny, *m);
  if (auto m = first_named(remembered_allow_, claimed, p))
    return resolves ? decide(verdict::allow, reason::interactive_allow, *m) : decide(verdict::deny, mismatch(source), *m);
  if (auto m = first_address(remembered_deny_, dst, p)) return named(decide(verdict::deny, reason::interactive_deny, *m));
  if (auto m = first_address(remembered_allow_, dst, p))
    return named(decide(verdict::allow, reason::interactive_allow, *m));
  return named(fallback_claim(source));
}

bool policy::resolves_to(std::string_view name, const packet::ip_address& ip, clock::time_point now) const {
  std::shared_lock lock(mutex_);
  return contains(learned_.names_for(unmapped(ip), now), canonical_name(name));
}

void policy::remember_ip(const packet::ip_address& ip, std::optional<std::uint16_t> port, verdict v,
                         std::string_view origin) {
  remember(address_rule(ip, ip.v6 ? 128 : 32, port), v, origin);
}

void policy::remember_domain(std::string_view name, verdict v) { remember(domain_rule(name), v); }

bool policy::address_verdicts_can_change() const {
  return config_.interactive || std::ranges::any_of(config_.deny, [](const rule& r) {
           return r.kind == rule_kind::domain || r.kind == rule_kind::wildcard;
         });
}

std::vector<std::string> policy::names_for(const packet::ip_address& ip, clock::time_point now) const {
  std::shared_lock lock(mutex_);
  return learned_.names_for(unmapped(ip), now);
}

std::optional<decision> policy::blocked(const packet::ip_address& ip) const {
  if (config_.offline) return decide(verdict::deny, reason::offline);
  if (config_.block_metadata && is_metadata(ip)) return decide(verdict::deny, reason::block_metadata);
  if (config_.block_private && is_private(ip)) return decide(verdict::deny, reason::block_private);
  return std::nullopt;
}

std::optional<decision> policy::encrypted_dns_by_address(const packet::ip_address& ip, std::uint16_t port,
                                                         std::uint8_t protocol,
                                                         const std::vector<std::string>& names) const {
  if (!refuses_encrypted_dns_ || !encrypted_dns_endpoint(ip, port, protocol)) return std::nullopt;
  if (names_address_exactly(config_.allow, ip, port)) return std::nullopt;
  for (const auto& n : names)
    if (names_host_exactly(config_.allow, n, port)) return std::nullopt;
  return decide(verdict::deny, reason::encrypted_dns);
}

std::optional<decision> policy::encrypted_dns_by_claim(const std::string& name, const packet::ip_address& ip,
                                                       std::uint16_t port, std::uint8_t protocol) const {
  if (!refuses_encrypted_dns_ || names_host_exactly(config_.allow, name, port)) return std::nullopt;
  if (encrypted_dns_host_for(name)) return decide(verdict::deny, reason::encrypted_dns);
  return encrypted_dns_by_address(ip, port, protocol, {});
}

std::optional<decision> policy::by_memory(const packet::ip_address& ip, std::uint16_t port,
                                          const std::vector<std::string>& names) const {
  if (auto m = first_either(remembered_deny_, ip, port, names))
    return decide(verdict::deny, reason::interactive_deny, *m);
  if (auto m = first_either(remembered_allow_, ip, port, names))
    return decide(verdict::allow, reason::interactive_allow, *m);
  return std::nullopt;
}

decision policy::fallback_connect() const {
  if (default_allow_) return decide(verdict::allow, reason::default_allow);
  if (config_.interactive) return decide(verdict::ask, reason::ask);
  return decide(verdict::deny, reason::not_allowed);
}

decision policy::fallback_claim(claim_source source) const {
  if (default_allow_) return decide(verdict::allow, reason::default_allow);
  if (config_.interactive) return decide(verdict::ask, reason::ask);
  return decide(verdict::deny, source == claim_source::sni ? reason::sni_not_allowed : reason::host_not_allowed);
}

std::string_view policy::mismatch(claim_source source) {
  return source == claim_source::sni ? reason::sni_mismatch : reason::host_mismatch;
}

decision policy::fallback_query() const {
  if (default_allow_) return decide(verdict::allow, reason::default_allow);
  if (config_.interactive || any_address_allow_) return decide(verdict::allow, reason::resolve_only);
  return decide(verdict::deny, reason::not_allowed);
}

void policy::remember(rule r, verdict v, std::string_view origin) {
  if (v == verdict::ask) return;
  r.origin = std::string(origin);
  std::unique_lock lock(mutex_);
  auto& list = v == verdict::deny ? remembered_deny_ : remembered_allow_;
  if (std::ranges::find(list, r.text, &rule::text) == list.end()) list.push_back(std::move(r));
}

}  // namespace netpen::policy
