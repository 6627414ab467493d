// The engine's event publishing (see engine.hpp): every event goes through
// one strand, in order, so the outputs see a flow's open before its close
// and the sink needs no locking. The owning process is looked up there, off
// the flows' paths, when a flow opens (its socket certainly exists then) and
// remembered until the flow's last event. A TCP flow's SYN-ACK waits for
// that lookup (owner_looked_up), so a client that connects, talks and exits
// in a millisecond is still found.
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

#include <future>

#include "net/dns/exchange_event.hpp"
#include "net/relay/destination.hpp"
#include "net/relay/engine.hpp"

namespace netpen::relay {

void engine::set_tree(pid_t init_pid) {
  asio::post(events_, [this, init_pid] { finder_ = std::make_unique<process_finder>(init_pid); });
}

events::event engine::flow_event(events::kind what, const flow_key& key, const flow_record& record) const {
  events::event e;
  e.what = what;
  e.protocol = std::string(protocol_name(key));
  const bool icmp = key.protocol == packet::proto_icmp || key.protocol == packet::proto_icmpv6;
  e.source = icmp ? to_string(key.src) : endpoint_text(key.src, key.src_port);
  e.destination = icmp ? to_string(key.dst) : endpoint_text(key.dst, key.dst_port);
  e.name = name_for(key.dst);
  e.via = record.via;
  return e;
}

void engine::flow_opened(const flow_key& key, flow_record& record) {
  if (!opts_.observe) return;
  record.announced = true;
  auto e = flow_event(events::kind::flow_open, key, record);
  if (!record.policy.empty()) {
    e.policy = record.policy;  // why it may go
    e.rule = record.rule;
  } else if (opts_.policy && classify(key.dst, key.dst_port).kind == destination_kind::relay) {
    const auto d = opts_.policy->on_connect(key.dst, key.dst_port, key.protocol, policy::policy::clock::now());
    // `ask` for a flow that opened: the user allowed it once.
    e.policy = d.what == policy::verdict::ask ? std::string(policy::reason::interactive_allow) : d.reason;
    e.rule = d.rule;
  }
  emit_for(std::move(e), key, false);
}

void engine::flow_closed(const flow_key& key, const flow_record& record) {
  if (!opts_.observe || !record.announced) return;
  auto e = flow_event(events::kind::flow_close, key, record);
  e.bytes_out = record.bytes_out;
  e.bytes_in = record.bytes_in;
  e.end = std::string(record.end);
  e.duration = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - record.opened);
  emit_for(std::move(e), key, true);
}

void engine::emit(events::event e) {
  asio::post(events_, [this, e = std::move(e)] {
    if (opts_.on_event) opts_.on_event(e);
  });
}

void engine::prefetch_owner(const flow_key& key) {
  if (!opts_.observe) return;
  asio::post(events_, [this, key] {
    if (!finder_ || owners_.contains(key)) return;
    owners_.emplace(key, finder_->find(key));
  });
}

asio::awaitable<void> engine::owner_looked_up() {
  if (!opts_.observe) co_return;
  // The lookup was posted to events_ at the SYN; this runs after it.
  co_await asio::post(events_, asio::use_awaitable);
}

void engine::emit_for(events::event e, const flow_key& key, bool last) {
  asio::post(events_, [this, e = std::move(e), key, last]() mutable {
    auto it = owners_.find(key);
    if (it == owners_.end()) {
      std::optional<events::process_info> found;
      if (finder_ && opts_.observe) found = finder_->find(key);
      it = owners_.emplace(key, std::move(found)).first;
    }
    e.process = it->second;
    if (last) owners_.erase(it);
    if (opts_.on_event) opts_.on_event(e);
  });
}

void engine::dns_udp_exchange(const flow_key& key, std::span<const std::byte> query,
                              std::optional<std::span<const std::byte>> reply) {
  if (!opts_.observe) return;
  auto e = reply ? dns::answer_event(query, *reply, "udp") : dns::query_event(query, "udp");
  if (!e) return;
  e->source = endpoint_text(key.src, key.src_port);
  e->destination = endpoint_text(key.dst, key.dst_port);
  emit_for(std::move(*e), key, reply.has_value());
}

// Runs what is queued on the events strand before the engine stops (bounded;
// the marker owns its promise, so a late run after a timeout is harmless).
void engine::drain_events() {
  auto done = std::make_shared<std::promise<void>>();
  auto f = done->get_future();
  asio::post(events_, [done] { done->set_value(); });
  f.wait_for(std::chrono::seconds(2));
}

}  // namespace netpen::relay
