// The rootful gate's claim mode (see kernel_gate.hpp): TCP SYNs let go
// without a verdict for their claim_flow to decide, the verdicts those flows
// report back, and QUIC flows judged by the SNI of their first datagrams.
#include <asio/co_spawn.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include "net/common/asio_helpers.hpp"
#include "net/common/log.hpp"
#include "net/relay/claim_flow.hpp"
#include "net/relay/flow_services.hpp"
#include "net/relay/kernel_gate.hpp"
#include "net/sniff/quic_sniffer.hpp"

namespace netpen::relay {
namespace detail {

// A QUIC flow's datagrams while its ClientHello is incomplete: the ones
// queued after the first feed the sniffer; `more` ends the wait early.
struct quic_claim_wait {
  explicit quic_claim_wait(const asio::any_io_executor& ex) : more(ex) {}
  sniff::quic_sniffer sniffer;
  asio::steady_timer more;
};

}  // namespace detail

namespace {

// How long a QUIC flow's first datagrams may wait in the queue for the rest
// of a ClientHello that spans several (the client sends them together).
constexpr std::chrono::milliseconds quic_wait{250};
constexpr std::uint16_t quic_port = 443;

}  // namespace

// A TCP SYN whose verdict waits for its claimed name: its claim_flow reads
// the first bytes behind the transparent listener.
bool kernel_gate::awaits_claim(const flow_key& key) const {
  return claim_mode_ && !transparent_.empty() && services_.judged_by_claim(key);
}

// The SYN (and its retransmissions) go; the record waits without flow_open.
void kernel_gate::let_go_for_claim(const flow_key& key) {
  for (auto id : table_.decide(key, true)) send_verdict(id, true);
  table_.await_claim(key, flow_record{});
}

bool kernel_gate::sniffs_quic(const flow_key& key) const {
  return claim_mode_ && key.protocol == packet::proto_udp && key.dst_port == quic_port &&
         services_.judged_by_claim(key);
}

void kernel_gate::more_quic(const flow_key& key, std::span<const std::byte> datagram) {
  auto it = quic_waits_.find(key);
  if (it == quic_waits_.end()) return;
  if (it->second->sniffer.feed(datagram) == sniff::quic_sniffer::state::done) it->second->more.cancel();
}

// The verdict on a QUIC flow: by the SNI its Initial claims (by address
// when it claims none: judge_claim with an empty claim).
asio::awaitable<policy::decision> kernel_gate::judge_quic(const flow_key& key, std::vector<std::byte> first_datagram,
                                                          sniff::claim& claim) {
  auto wait = std::make_shared<detail::quic_claim_wait>(strand_);
  if (wait->sniffer.feed(first_datagram) == sniff::quic_sniffer::state::need_more) {
    quic_waits_.insert_or_assign(key, wait);
    wait->more.expires_after(quic_wait);
    co_await wait->more.async_wait(use_tuple);
    quic_waits_.erase(key);
  }
  if (wait->sniffer.current() == sniff::quic_sniffer::state::done) claim = wait->sniffer.result();
  log::debug("{}: QUIC claim \"{}\"", to_string(key), claim.name());
  co_return co_await services_.judge_claim(key, claim);
}

void kernel_gate::start_claim_flow(const flow_key& key, asio::ip::tcp::socket socket,
                                   asio::strand<asio::any_io_executor> strand) {
  const bool pending = table_.awaiting_claim(key);
  if (!pending) services_.prefetch_owner(key);  // the gate never saw it
  claim_flow::gate_hooks hooks;
  hooks.allowed = [this, pending](const flow_key& k, const policy::decision& d, const sniff::claim& c) {
    asio::post(strand_, [this, k, d, c, pending] { claim_allowed(k, d, c, pending); });
  };
  hooks.refused = [this](const flow_key& k) {
    asio::post(strand_, [this, k] { table_.claim_settled(k, false); });
  };
  hooks.connect_failed = [this](const flow_key& k, std::string_view end) {
    asio::post(strand_, [this, k, end] { failed_connects_[k] = end; });
  };
  auto flow = std::make_shared<claim_flow>(services_, std::move(strand), key, pending, std::move(hooks));
  if (claims_.size() >= 256 && claims_.size() % 256 == 0)
    std::erase_if(claims_, [](const auto& w) { return w.expired(); });
  claims_.push_back(flow);
  flow->start(std::move(socket));
}

// A claim flow's allowing verdict: flow_open, with the claim and the policy
// in the record the flow's close will carry.
void kernel_gate::claim_allowed(const flow_key& key, const policy::decision& d, const sniff::claim& claim,
                                bool pending) {
  if (stopping_.load()) return;
  auto record = table_.claim_settled(key, true);
  if (!record) {
    if (pending) return;  // its conntrack entry ended meanwhile
    table_.decide(key, true);
    record.emplace();
  }
  record->policy = d.reason;
  record->rule = d.rule;
  record->claim = claim;
  if (services_.settings().proxy) record->via = proxy::display(*services_.settings().proxy);
  services_.opened(key, table_.opened(key, std::move(*record)));
}

}  // namespace netpen::relay

namespace netpen::relay {

// The run ends: every claim flow reset, every QUIC wait over.
void kernel_gate::close_claims() {
  for (auto& w : claims_)
    if (auto flow = w.lock()) flow->shutdown();
  claims_.clear();
  for (auto& [key, wait] : quic_waits_) wait->more.cancel();
}

}  // namespace netpen::relay
