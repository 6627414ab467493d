// The rootful gate's pure bookkeeping (see gate_table.hpp).
#include "net/relay/gate_table.hpp"

#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>

#include "net/packet/frame.hpp"
#include "net/policy/policy.hpp"

namespace netpen::relay {

gate_table::action gate_table::on_packet(const flow_key& key, std::uint32_t id) {
  if (auto d = decided_.find(key); d != decided_.end()) return d->second ? action::accept : action::reject;
  if (auto p = pending_.find(key); p != pending_.end()) {
    p->second.push_back(id);
    return action::wait;
  }
  pending_.emplace(key, std::vector<std::uint32_t>{id});
  return action::judge;
}

std::vector<std::uint32_t> gate_table::decide(const flow_key& key, bool allow) {
  std::vector<std::uint32_t> ids;
  if (auto p = pending_.find(key); p != pending_.end()) {
    ids = std::move(p->second);
    pending_.erase(p);
  }
  if (decided_.size() >= max_decided) decided_.clear();
  decided_[key] = allow;
  return ids;
}

flow_record& gate_table::opened(const flow_key& key, flow_record record) {
  if (auto c = early_claims_.find(key); c != early_claims_.end()) {
    record.claim = std::move(c->second);
    early_claims_.erase(c);
  }
  return open_.insert_or_assign(key, std::move(record)).first->second;
}

void gate_table::await_claim(const flow_key& key, flow_record record) {
  claiming_.insert_or_assign(key, std::move(record));
}

std::optional<flow_record> gate_table::claim_settled(const flow_key& key, bool allow) {
  auto it = claiming_.find(key);
  if (it == claiming_.end()) return std::nullopt;
  auto record = std::move(it->second);
  claiming_.erase(it);
  decided_[key] = allow;
  return record;
}

std::optional<bool> gate_table::verdict_of(const flow_key& key) const {
  if (auto d = decided_.find(key); d != decided_.end()) return d->second;
  return std::nullopt;
}

void gate_table::finished(const flow_key& key, std::chrono::steady_clock::time_point when) {
  if (auto it = open_.find(key); it != open_.end() && !it->second.ended) it->second.ended = when;
}

std::optional<flow_record> gate_table::ended(const flow_key& key) {
  decided_.erase(key);
  early_claims_.erase(key);
  claiming_.erase(key);
  auto it = open_.find(key);
  if (it == open_.end()) return std::nullopt;
  auto record = std::move(it->second);
  open_.erase(it);
  return record;
}

flow_record* gate_table::claimed(const flow_key& key, sniff::claim claim) {
  if (auto it = open_.find(key); it != open_.end()) {
    it->second.claim = std::move(claim);
    return &it->second;
  }
  if (early_claims_.size() >= max_decided) early_claims_.clear();
  early_claims_.insert_or_assign(key, std::move(claim));
  return nullptr;
}

std::vector<std::pair<flow_key, flow_record>> gate_table::take_open() {
  std::vector<std::pair<flow_key, flow_record>> out(std::make_move_iterator(open_.begin()),
                                                    std::make_move_iterator(open_.end()));
  open_.clear();
  return out;
}

std::string_view end_of(const netfilter::conntrack_entry& e) {
  if ((e.status & IPS_SEEN_REPLY) == 0) return e.original.proto == packet::proto_tcp ? "unreachable" : "expired";
  if (e.original.proto != packet::proto_tcp) return "expired";
  if (e.tcp_state && *e.tcp_state == TCP_CONNTRACK_CLOSE) return (e.status & IPS_ASSURED) ? "reset" : "refused";
  return "closed";
}

bool tcp_connection_over(const netfilter::conntrack_entry& e) {
  if (e.original.proto != packet::proto_tcp || !e.tcp_state) return false;
  const auto s = *e.tcp_state;
  return s == TCP_CONNTRACK_LAST_ACK || s == TCP_CONNTRACK_TIME_WAIT || s == TCP_CONNTRACK_CLOSE;
}

std::string_view end_at_shutdown(const netfilter::conntrack_entry& e) {
  const bool tcp = e.original.proto == packet::proto_tcp;
  if (tcp && (tcp_connection_over(e) || (e.status & IPS_SEEN_REPLY) == 0)) return end_of(e);
  return "shutdown";
}

bool verdict_cacheable(const flow_key& key, std::string_view reason, bool observed, bool proxied,
                       bool verdicts_can_change) {
  if (observed || proxied) return false;
  if (key.protocol != packet::proto_tcp && key.protocol != packet::proto_udp) return false;
  const bool fixed =
      reason.empty() /* no policy */ || reason == policy::reason::default_allow || reason == policy::reason::allow_rule;
  return fixed && !verdicts_can_change;
}

}  // namespace netpen::relay
