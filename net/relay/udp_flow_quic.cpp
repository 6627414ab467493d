// A UDP flow to port 443 as QUIC (see udp_flow.hpp, "QUIC"): the Initial's
// claim decides a flow judged by claim before anything leaves, and is
// sniffed passively into the record otherwise.
#include <asio/steady_timer.hpp>

#include <algorithm>

#include "net/common/asio_helpers.hpp"
#include "net/common/log.hpp"
#include "net/packet/icmp.hpp"
#include "net/relay/destination.hpp"
#include "net/relay/udp_flow.hpp"

namespace netpen::relay {
namespace {
// How long after the flow's first datagram the claim may take to complete
// (a ClientHello spread over several Initial packets comes back to back).
constexpr auto quic_claim_wait = std::chrono::milliseconds(250);
constexpr std::size_t max_quote = 576;

icmp_report administratively_prohibited(bool v6) {
  icmp_report r;
  r.offender = gateway_address(v6);
  r.type = v6 ? packet::icmp6::dest_unreachable : packet::icmp4::dest_unreachable;
  r.code = v6 ? packet::icmp6::admin_prohibited : packet::icmp4::admin_prohibited;
  return r;
}
}  // namespace

bool udp_flow::held_or_refused(std::span<const std::byte> payload, std::span<const std::byte> ip_packet,
                               std::uint8_t ttl) {
  if (refused_) {
    touch();  // a client still sending keeps the refusal (and its flow) alive
    ctx_.icmp_error_to_child(key_, administratively_prohibited(key_.dst.v6),
                             ip_packet.first(std::min(ip_packet.size(), max_quote)));
    return true;
  }
  if (!pending_) return false;
  if (held_.size() >= sniff::quic_sniffer::max_datagrams) return true;  // dropped, as a full queue would
  touch();
  const auto quote = ip_packet.first(std::min(ip_packet.size(), max_quote));
  held_.push_back(held_datagram{{payload.begin(), payload.end()}, {quote.begin(), quote.end()}, ttl});
  if (sniffer_) sniff(payload);
  held_changed_.cancel();
  return true;
}

void udp_flow::sniff(std::span<const std::byte> payload) {
  if (sniffer_->feed(payload) != sniff::quic_sniffer::state::done) return;
  if (!sniffer_->result().empty()) {
    record_.claim = sniffer_->result();
    if (record_.announced) ctx_.claimed(key_, record_);  // learned after flow_open
  }
  sniffer_.reset();
}

// Waits (bounded) for the Initial's claim, then asks judge_claim.
asio::awaitable<bool> udp_flow::admit() {
  const auto until = clock::now() + quic_claim_wait;
  while (sniffer_ && !closed_ && clock::now() < until) {
    held_changed_.expires_at(until);  // held_or_refused() cancels it: the sniffer may be done
    co_await held_changed_.async_wait(use_tuple);
  }
  if (closed_) co_return false;
  const sniff::claim claim = record_.claim;
  const policy::decision verdict = co_await ctx_.judge_claim(key_, claim);
  pending_ = false;
  if (verdict.what != policy::verdict::allow) {
    log::debug("{}: denied by policy ({}) for QUIC claim '{}'", to_string(key_), verdict.reason, claim.name());
    ctx_.denied(key_, verdict, claim);
    refused_ = true;
    for (const auto& d : held_)
      ctx_.icmp_error_to_child(key_, administratively_prohibited(key_.dst.v6),
                               std::span<const std::byte>(d.ip_packet).first(std::min(d.ip_packet.size(), max_quote)));
    held_.clear();
    co_return false;
  }
  record_.policy = verdict.reason;
  record_.rule = verdict.rule;
  co_return true;
}

void udp_flow::after_open() {
  auto held = std::move(held_);
  held_.clear();
  for (const auto& d : held) transmit(d.payload, d.ip_packet, d.ttl);
}

}  // namespace netpen::relay
