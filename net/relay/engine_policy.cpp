// The engine's side of the policy (see net/policy/policy.hpp): the DNS
// forwarder asks it about each question (a refused name gets NXDOMAIN at
// once), learns from each answer which addresses the tree's names stand
// for, and every new TCP, UDP or ping flow to the outside is judged before
// anything leaves. A denial is one `denied` event naming the decision's
// reason code and rule; the child gets an RST (TCP) or ICMP administratively
// prohibited (UDP, ping) at once.
#include <fmt/format.h>

#include "net/policy/address_class.hpp"
#include "net/relay/engine.hpp"
#include "net/relay/host_socket.hpp"

namespace netpen::relay {
namespace {

// "denied by --deny rule *.evil.com (--deny)" and friends: the sentence.
std::string sentence(const policy::decision& d) {
  if (d.reason == policy::reason::offline) return "--offline: nothing leaves";
  if (d.reason == policy::reason::block_private) return "--block-private: a private address";
  if (d.reason == policy::reason::block_metadata) return "--block-metadata: a cloud metadata address";
  if (d.reason == policy::reason::deny_rule) return "deny rule " + d.rule;
  if (d.reason == policy::reason::interactive_deny) return "denied earlier in this run";
  return "not allowed: no allow rule matches";
}

}  // namespace

std::optional<policy::decision> engine::policy_denies(const flow_key& key) const {
  if (!opts_.policy) return std::nullopt;
  auto d = opts_.policy->on_connect(key.dst, key.dst_port, key.protocol, policy::policy::clock::now());
  if (d.what == policy::verdict::allow) return std::nullopt;
  return d;
}

events::event engine::denied_event(const flow_key& key, const policy::decision& d) const {
  auto e = flow_event(events::kind::denied, key, flow_record{});
  e.via.clear();
  e.reason = sentence(d);
  e.policy = d.reason;
  e.rule = d.rule;
  if (!e.name && !d.name.empty()) e.name = d.name;
  return e;
}

void engine::warn_if_encrypted_dns(const flow_key& key) {
  if (!opts_.policy) return;
  const auto what = policy::encrypted_dns_endpoint(key.dst, key.dst_port, key.protocol);
  if (!what) return;
  const auto destination = endpoint_text(key.dst, key.dst_port);
  {
    const std::lock_guard lock(encrypted_dns_mutex_);
    if (!encrypted_dns_warned_.insert(destination).second) return;
  }
  auto e = flow_event(events::kind::warning, key, flow_record{});
  e.via.clear();
  e.reason = fmt::format("{}: names resolved there bypass the name policy", *what);
  emit_for(std::move(e), key, false);
}

bool engine::query_allowed(const std::string& qname) {
  if (!opts_.policy) return true;
  const auto d = opts_.policy->on_query(qname);
  if (d.what != policy::verdict::deny) return true;
  events::event e;
  e.what = events::kind::denied;
  e.protocol = "dns";
  e.name = qname;
  e.query = qname;
  e.reason = sentence(d);
  e.policy = d.reason;
  e.rule = d.rule;
  emit(std::move(e));
  return false;
}

void engine::learn_names(const std::string& qname, const std::vector<dns::answer_record>& records) {
  if (!opts_.policy) return;
  std::vector<packet::ip_address> addresses;
  std::uint32_t ttl = 0;
  bool first = true;
  for (const auto& r : records) {
    if (r.type != dns::type_a && r.type != dns::type_aaaa) continue;
    addresses.push_back(from_asio(r.address));
    ttl = first ? r.ttl : std::min(ttl, r.ttl);
    first = false;
  }
  if (!addresses.empty()) opts_.policy->learn(qname, addresses, ttl, policy::policy::clock::now());
}

}  // namespace netpen::relay
