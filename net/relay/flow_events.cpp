// The services' event publishing (see flow_services.hpp): every event goes
// through one strand, in order. Every flow event carries what the flow's
// first bytes claimed (its record's claim: SNI, ALPN, HTTP method/Host/
// path) once the relay knows it: flow_open when known by then, flow_close
// always, denied when the refusal was on the claim. The owning process is looked up there, off
// the flows' paths, when a flow's first packet arrives (its socket certainly
// exists then) and remembered until the flow's last event. A TCP flow's
// SYN-ACK waits for that lookup (owner_looked_up), so a client that
// connects, talks and exits in a millisecond is still found.
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <future>

#include "net/relay/flow_services.hpp"
#include "net/relay/host_socket.hpp"

namespace netpen::relay {
namespace {

// What the flow's first bytes claimed, into the event's fields (empty when
// nothing was recognised).
void copy_claim(const sniff::claim& c, events::event& e) {
  e.sni = c.sni;
  e.alpn = c.alpn;
  e.http_method = c.http_method;
  e.http_host = c.http_host;
  e.http_path = c.http_path;
}

}  // namespace

void flow_services::set_tree(pid_t init_pid) {
  asio::post(events_, [this, init_pid] { finder_ = std::make_unique<process_finder>(init_pid); });
}

events::event flow_services::flow_event(events::kind what, const flow_key& key, const flow_record& record) const {
  events::event e;
  e.what = what;
  e.protocol = std::string(protocol_name(key));
  const bool icmp = key.protocol == packet::proto_icmp || key.protocol == packet::proto_icmpv6;
  e.source = icmp ? to_string(key.src) : endpoint_text(key.src, key.src_port);
  e.destination = icmp ? to_string(key.dst) : endpoint_text(key.dst, key.dst_port);
  e.name = name_for(key.dst);
  e.via = record.via;
  copy_claim(record.claim, e);
  if (!record.inbound_client.empty()) {
    // --publish: from the host client to the server (the flow's child side).
    e.direction = "inbound";
    e.source = record.inbound_client;
    e.destination = endpoint_text(key.src, key.src_port);
    e.name.reset();
  }
  return e;
}

// The verdict that let the flow through is in its record (judged once, when
// it started); a flow that was never judged (the DNS forwarder) has none.
void flow_services::opened(const flow_key& key, flow_record& record) {
  if (!opts_.observe) return;
  record.announced = true;
  auto e = flow_event(events::kind::flow_open, key, record);
  record.name = e.name;
  e.policy = record.policy;
  e.rule = record.rule;
  report(std::move(e), key, false);
}

void flow_services::closed(const flow_key& key, const flow_record& record) {
  if (!opts_.observe || !record.announced) return;
  auto e = flow_event(events::kind::flow_close, key, record);
  if (record.inbound_client.empty()) e.name = record.name;  // as its open said
  e.bytes_out = record.bytes_out;
  e.bytes_in = record.bytes_in;
  e.end = std::string(record.end);
  const auto now = std::chrono::steady_clock::now();
  const auto ended = std::min(record.ended.value_or(now), now);
  e.duration = std::chrono::duration_cast<std::chrono::milliseconds>(ended - record.opened);
  e.time -= std::chrono::duration_cast<std::chrono::system_clock::duration>(now - ended);  // when it ended
  report(std::move(e), key, true);
}

void flow_services::claimed(const flow_key& key, const flow_record& record) {
  if (!opts_.observe || !record.announced || record.claim.empty() || !opts_.on_claim) return;
  auto e = flow_event(events::kind::flow_open, key, record);
  e.policy = record.policy;
  e.rule = record.rule;
  asio::post(events_, [this, e = std::move(e), key]() mutable {
    // The flow's process is remembered until its last event.
    if (auto it = owners_.find(key); it != owners_.end()) e.process = it->second;
    opts_.on_claim(e);
  });
}

void flow_services::emit(events::event e) {
  asio::post(events_, [this, e = std::move(e)] {
    if (opts_.on_event) opts_.on_event(e);
  });
}

void flow_services::prefetch_owner(const flow_key& key) {
  if (!opts_.observe) return;
  asio::post(events_, [this, key] {
    if (!finder_ || owners_.contains(key)) return;
    owners_.emplace(key, finder_->find(key));
  });
}

asio::awaitable<void> flow_services::owner_looked_up() {
  if (!opts_.observe) co_return;
  // The lookup was posted to events_ at the first packet; this runs after it.
  co_await asio::post(events_, asio::use_awaitable);
}

void flow_services::report(events::event e, const flow_key& key, bool last) {
  asio::post(events_, [this, e = std::move(e), key, last]() mutable { deliver(std::move(e), key, last); });
}

void flow_services::deliver(events::event e, const flow_key& key, bool last) {
  auto it = owners_.find(key);
  if (it == owners_.end()) {
    std::optional<events::process_info> found;
    if (finder_ && opts_.observe) found = finder_->find(key);
    it = owners_.emplace(key, std::move(found)).first;
  }
  e.process = it->second;
  if (last) owners_.erase(it);
  if (opts_.on_event) opts_.on_event(e);
}

// Runs what is queued on the events strand before the services stop
// (bounded; the marker owns its promise, so a late run after a timeout is
// harmless).
void flow_services::drain_events() {
  auto done = std::make_shared<std::promise<void>>();
  auto f = done->get_future();
  asio::post(events_, [done] { done->set_value(); });
  f.wait_for(std::chrono::seconds(2));
}

}  // namespace netpen::relay
