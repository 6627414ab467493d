// A TCP flow judged by the name its first bytes claim (see tcp_flow.hpp,
// "Judged by claim", and docs/relay.md "The deferred connect"): the SYN is
// answered first, the child's bytes wait in the endpoint's rx ring while a
// stream_sniffer reads them, judge_claim decides, and only an allowed flow
// connects. Also the sniffing itself, shared with the passive visibility of
// every other flow.
#include <asio/steady_timer.hpp>

#include <algorithm>

#include "net/common/log.hpp"
#include "net/relay/destination.hpp"
#include "net/relay/tcp_flow.hpp"

namespace netpen::relay {
namespace {
// How long the flow waits for the child's first byte (a server that speaks
// first pays this once), and in all while the claim is incomplete.
constexpr auto first_byte_wait = std::chrono::milliseconds(250);
constexpr auto claim_wait = std::chrono::seconds(2);
}  // namespace

bool tcp_flow::judged_by_claim() const {
  const auto dest = classify(key_.dst, key_.dst_port, false, ctx_.settings().host_ports);
  return dest.kind == destination_kind::relay && ctx_.judged_by_claim(key_);
}

// The endpoint's timers run from the SYN-ACK on, while the flow waits for
// the claim, the verdict and the connect.
asio::awaitable<void> tcp_flow::run_claimed() {
  start_timers();
  co_await claim_then_relay();
  co_await wait_until_over();
  after_change();
}

asio::awaitable<void> tcp_flow::claim_then_relay() {
  co_await ctx_.owner_looked_up();
  if (ep_.is_closed()) co_return;  // the child gave up (or the run ends): nothing was decided
  syn_answered_ = true;
  ep_.accept(tcp::clock::now());
  flush();
  after_change();
  co_await wait_for_claim();
  if (ep_.is_closed()) {
    log::debug("{}: the child left before the claim was judged", to_string(key_));
    co_return;
  }
  const sniff::claim claim = record_.claim;  // protocol none unless the sniffer recognised something
  const policy::decision verdict = co_await ctx_.judge_claim(key_, claim);
  if (verdict.what != policy::verdict::allow) {
    log::debug("{}: denied by policy ({}) for claim '{}'", to_string(key_), verdict.reason, claim.name());
    ctx_.denied(key_, verdict, claim);
    ep_.abort();
    flush();
    after_change();
    co_return;
  }
  record_.policy = verdict.reason;
  record_.rule = verdict.rule;
  if (ep_.is_closed()) co_return;  // the child gave up while we asked
  const connect_result connected = co_await connect_remote();
  if (connected != connect_result::connected) {
    end_unconnected("refused");
    co_return;
  }
  connected_ = true;
  if (stream_.is_tls()) ep_.tx_grow_to_max();
  ctx_.opened(key_, record_);
  deliver_early_bytes();
  write_now();  // what the child sent meanwhile (child_to_host takes the rest, then its FIN)
  flush();
  after_change();
  relaying_ = true;
  start_child_to_host_if_needed();
  co_await host_to_child();
}

// Feeds the child's queued bytes to the sniffer until it is done, the child
// closes or resets, or the wait is over (first_byte_wait without any byte,
// claim_wait in all). Consumes nothing: the ring's free space is the window.
asio::awaitable<void> tcp_flow::wait_for_claim() {
  const auto start = tcp::clock::now();
  asio::steady_timer limit(strand_);
  for (;;) {
    sniff_queued();
    if (!sniffer_ || ep_.is_closed()) co_return;
    if (ep_.current_state() == tcp::state::close_wait) co_return;  // the child's FIN: no more bytes come
    const auto deadline = start + (sniffed_ == 0 ? std::chrono::duration_cast<tcp::duration>(first_byte_wait)
                                                 : std::chrono::duration_cast<tcp::duration>(claim_wait));
    if (tcp::clock::now() >= deadline) {
      log::debug("{}: no complete claim after {} bytes: judged by address", to_string(key_), sniffed_);
      co_return;
    }
    limit.expires_at(deadline);
    limit.async_wait([this, self = shared_from_this()](const asio::error_code& ec) {
      if (!ec) changed_.notify();
    });
    co_await changed_.wait();
    limit.cancel();
  }
}

void tcp_flow::end_unconnected(std::string_view end) {
  record_.end = end;
  ctx_.opened(key_, record_);
  ep_.abort();
  flush();
  after_change();
}

void tcp_flow::sniff(std::uint64_t at, std::span<const std::byte> bytes) {
  if (!sniffer_ || bytes.empty()) return;
  if (at > sniffed_) {  // a gap cannot happen (bytes come in order); give up rather than guess
    sniffer_.reset();
    return;
  }
  const std::uint64_t skip = sniffed_ - at;
  if (skip >= bytes.size()) return;
  bytes = bytes.subspan(static_cast<std::size_t>(skip));
  const std::size_t room = sniff::stream_sniffer::max_bytes - static_cast<std::size_t>(sniffed_);
  bytes = bytes.first(std::min(bytes.size(), room));
  sniffed_ += bytes.size();
  if (sniffer_->feed(bytes) == sniff::stream_sniffer::state::done) {
    record_.claim = sniffer_->result();
    sniffer_.reset();
    if (record_.announced && !record_.claim.empty()) ctx_.claimed(key_, record_);  // learned after flow_open
  } else if (sniffed_ >= sniff::stream_sniffer::max_bytes) {
    sniffer_.reset();
  }
}

void tcp_flow::sniff_queued() {
  if (!sniffer_) return;
  const auto spans = ep_.rx_data();
  sniff(record_.bytes_out, spans[0]);
  sniff(record_.bytes_out + spans[0].size(), spans[1]);
}

void tcp_flow::sniff_consumed(std::size_t n) {
  const auto spans = ep_.rx_data();
  const std::size_t first = std::min(n, spans[0].size());
  sniff(record_.bytes_out, spans[0].first(first));
  if (n > first) sniff(record_.bytes_out + first, spans[1].first(std::min(n - first, spans[1].size())));
}

}  // namespace netpen::relay
