// The rootless engine's datagrams (see engine.hpp): DNS over UDP to the
// forwarder, UDP and ping flows, and the admission of new datagram flows.
// A datagram that may not leave is answered the way a firewall would: ICMP
// "administratively prohibited" from the gateway, and one `denied` event
// per flow. A QUIC flow (UDP/443) judged by claim is admitted by the flow
// itself once its Initial's SNI is known (udp_flow.hpp).
#include <asio/post.hpp>

#include "net/common/log.hpp"
#include "net/common/sandbox_addresses.hpp"
#include "net/packet/icmp.hpp"
#include "net/relay/destination.hpp"
#include "net/relay/engine.hpp"
#include "net/policy/answered.hpp"
#include "net/relay/flow_services.hpp"
#include "net/relay/host_port_relay.hpp"
#include "net/relay/icmp_echo_flow.hpp"
#include "net/relay/udp_flow.hpp"

namespace netpen::relay {
namespace {

constexpr std::size_t max_denied_remembered = 4096;
constexpr std::size_t max_quote = 576;

flow_key udp_key_of(const packet::frame& f) {
  flow_key k;
  k.protocol = f.protocol;
  k.src = f.src;
  k.dst = f.dst;
  k.src_port = f.udp.src_port;
  k.dst_port = f.udp.dst_port;
  return k;
}

}  // namespace

void engine::handle_udp(packet_buffer buf, const packet::frame& f) {
  const flow_key key = udp_key_of(f);
  if (answer_inbound_udp(key, f)) return;
  if (key.dst_port == 53) {
    handle_dns_udp(key, f);
    return;
  }
  const auto dest = classify(key.dst, key.dst_port, true, services_.settings().host_ports);
  if (dest.kind == destination_kind::host_port && host_ports_ != nullptr) {
    host_ports_->datagram_from_tap(key, f.payload);
    return;
  }
  if (dest.kind != destination_kind::relay) {
    // A closed gateway port answers as a host with nothing there would; no
    // ICMP error is owed for multicast, broadcast or unroutable destinations.
    if (is_gateway(key.dst)) send_unreachable(key, f, unreachable::port);
    udp_dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (refused_for_proxy(key, f)) return;
  auto it = udp_flows_.find_live(key);
  if (it == udp_flows_.end()) {
    // QUIC judged by claim: the flow holds its first datagrams and decides
    // itself (udp_flow.hpp); anything else is admitted here, by address.
    const bool by_claim = key.dst_port == 443 && services_.judged_by_claim(key);
    auto record = by_claim ? std::optional<flow_record>(flow_record{}) : admit_datagram(key, f);
    if (!record || stopping_.load()) return;
    make_room_for_udp_flow();
    if (!by_claim) services_.warn_if_encrypted_dns(key);
    auto flow = std::make_shared<udp_flow>(services_, asio::make_strand(ctx_.get_executor()), key, opts_.udp,
                                           std::move(*record), done_for(udp_flows_), by_claim);
    it = udp_flows_.insert(key, flow);
    udp_flows_total_.fetch_add(1, std::memory_order_relaxed);
    flow_started();
    if (by_claim)
      flow->start_deferred();
    else
      flow->start();
  }
  if (shed(*it->second)) return;
  it->second->send(std::move(buf), f.payload, f.ip_packet, f.ttl);
}

// Under the tree's own flood: true when this datagram of `flow` is dropped
// here, past its share (datagram_shedding.hpp).
bool engine::shed(datagram_flow& flow) {
  if (shedding_.admit(flow.shed)) return false;
  shed_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void engine::handle_dns_udp(const flow_key& key, const packet::frame& f) {
  std::vector<std::byte> query(f.payload.begin(), f.payload.end());
  const bool taken = services_.answer_dns_udp(key, std::move(query), [this, key](std::vector<std::byte> reply) {
    if (!stopping_.load()) services_.tap().send_udp(key, reply);
  });
  if (!taken) udp_dropped_.fetch_add(1, std::memory_order_relaxed);
}

// The table is full: the flow idle the longest makes room.
void engine::make_room_for_udp_flow() {
  if (udp_flows_.size() < opts_.udp.max_flows) return;
  std::vector<flow_table<udp_flow>::iterator> entries;
  entries.reserve(udp_flows_.size());
  for (auto it = udp_flows_.begin(); it != udp_flows_.end(); ++it) entries.push_back(it);
  const auto victim = oldest_idle(entries.size(), [&](std::size_t i) { return entries[i]->second->last_activity(); });
  if (!victim) return;
  entries[*victim]->second->shutdown();
  udp_flows_.erase(entries[*victim]);
  udp_evicted_.fetch_add(1, std::memory_order_relaxed);
}

// Echo requests: answered locally for the gateway (as a router would), else
// relayed by a ping flow per (destination, identifier). An error the child
// sends about an inbound flow's packet refuses that flow; other ICMP from the
// child (other errors, router solicitations, MLD) is not relayed.
void engine::handle_icmp(const packet::frame& f) {
  const auto echo = packet::parse_echo_request(f);
  if (!echo) {
    if (refuse_inbound(f)) return;
    ignored_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (is_gateway(f.dst)) {
    services_.tap().send_frame(packet::build_echo_reply(sandbox::gateway_mac, sandbox::child_mac, f.dst, f.src, 64,
                                                        echo->id, echo->seq, echo->payload));
    return;
  }
  if (classify(f.dst, 1).kind != destination_kind::relay) {
    ignored_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  flow_key key;
  key.protocol = f.protocol;
  key.src = f.src;
  key.dst = f.dst;
  key.src_port = echo->id;
  if (refused_for_proxy(key, f)) return;
  auto it = icmp_flows_.find_live(key);
  if (it == icmp_flows_.end()) {
    auto record = admit_datagram(key, f);
    if (!record) return;
    if (stopping_.load() || icmp_flows_.size() >= opts_.udp.max_flows) {
      ignored_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    auto flow = std::make_shared<icmp_echo_flow>(services_, asio::make_strand(ctx_.get_executor()), key, opts_.udp,
                                                 std::move(*record), done_for(icmp_flows_));
    it = icmp_flows_.insert(key, flow);
    flow_started();
    flow->start();
  }
  if (shed(*it->second)) return;
  const auto quote = f.ip_packet.first(std::min<std::size_t>(f.ip_packet.size(), max_quote));
  it->second->send(echo->seq, std::vector<std::byte>(echo->payload.begin(), echo->payload.end()),
                   std::vector<std::byte>(quote.begin(), quote.end()), f.ttl);
}

// Under --proxy-only (or toward a synthetic address) no datagram leaves,
// whether or not its flow exists.
bool engine::refused_for_proxy(const flow_key& key, const packet::frame& f) {
  const auto why = services_.datagram_refusal(key);
  if (!why) return false;
  if (refuse_datagram(key, f)) {
    auto e = services_.flow_event(events::kind::denied, key, flow_record{});
    e.via.clear();  // it went nowhere
    e.reason = *why;
    services_.report(std::move(e), key, true);
  }
  return true;
}

// A new datagram flow: the policy's verdict, held while the user is asked.
std::optional<flow_record> engine::admit_datagram(const flow_key& key, const packet::frame& f) {
  auto d = services_.verdict_now(key);
  flow_record record;
  if (d.what == policy::verdict::ask) {
    if (auto once = allowed_once_.find(key); once != allowed_once_.end()) {  // the answer to this flow's question
      record.policy = policy::reason::interactive_allow;
      record.rule = std::move(once->second);
      allowed_once_.erase(once);
      return record;
    }
    if (services_.has_approver()) {
      ask_for_datagram(key);
      udp_dropped_.fetch_add(1, std::memory_order_relaxed);
      return std::nullopt;  // held (dropped) until answered
    }
    d.what = policy::verdict::deny;
    d.reason = policy::reason::not_allowed;
  }
  if (d.what != policy::verdict::allow) {
    if (refuse_datagram(key, f)) services_.denied(key, d);
    return std::nullopt;
  }
  record.policy = d.reason;
  record.rule = d.rule;
  return record;
}

// ICMP "administratively prohibited" to the child; true the first time for
// this flow (the caller then says why, once).
void engine::send_unreachable(const flow_key& key, const packet::frame& f, unreachable why) {
  icmp_report report;
  report.offender = gateway_address(key.dst.v6);
  report.type = key.dst.v6 ? packet::icmp6::dest_unreachable : packet::icmp4::dest_unreachable;
  if (why == unreachable::port)
    report.code = key.dst.v6 ? packet::icmp6::port_unreachable : packet::icmp4::port_unreachable;
  else
    report.code = key.dst.v6 ? packet::icmp6::admin_prohibited : packet::icmp4::admin_prohibited;
  services_.icmp_error_to_child(key, report, f.ip_packet.first(std::min<std::size_t>(f.ip_packet.size(), max_quote)));
}

bool engine::refuse_datagram(const flow_key& key, const packet::frame& f) {
  send_unreachable(key, f, unreachable::prohibited);
  udp_dropped_.fetch_add(1, std::memory_order_relaxed);
  if (denied_.size() >= max_denied_remembered) denied_.clear();
  return denied_.emplace(key, true).second;
}

// One question per destination; its answer comes back to the dispatch
// strand. The asked flow gets the answer itself (policy/answered.hpp): an
// allowing answer lets its next datagram through even when what was
// remembered no longer matches (a name whose DNS binding expired while the
// question was out), a refusal is reported as this answer's own.
void engine::ask_for_datagram(const flow_key& key) {
  std::string destination =
      to_string(key.dst) + "/" + std::to_string(key.protocol) + ":" + std::to_string(key.dst_port);
  if (!asking_.insert(destination).second) return;  // a question is out already
  services_.ask(key, [this, key, destination = std::move(destination)](policy::approval a, const std::string& name) {
    asio::post(dispatch_, [this, key, destination, a, name] {
      asking_.erase(destination);
      const auto d = policy::answered_decision(a, to_string(key.dst), name);
      if (d.what == policy::verdict::deny) return services_.denied(key, d);
      if (services_.verdict_now(key).what == policy::verdict::ask) allowed_once_.insert_or_assign(key, d.rule);
    });
  });
}

}  // namespace netpen::relay
