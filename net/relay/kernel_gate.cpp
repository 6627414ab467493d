// The rootful gate's flow judgement and flow ends (see kernel_gate.hpp).
#include "net/relay/kernel_gate.hpp"

#include <asio/co_spawn.hpp>
#include <asio/post.hpp>
#include <linux/netlink.h>
#include <poll.h>
#include <unistd.h>

#include <cstring>
#include <future>

#include "net/common/asio_helpers.hpp"
#include "net/common/log.hpp"
#include "net/netfilter/conntrack_codec.hpp"
#include "net/netfilter/nfqueue_codec.hpp"
#include "net/packet/icmp.hpp"
#include "net/relay/ct_flow_key.hpp"
#include "net/relay/flow_services.hpp"
#include "net/relay/host_socket.hpp"
#include "net/relay/l3_frame.hpp"
#include "net/relay/transparent_flow.hpp"

namespace netpen::relay {
namespace {

constexpr std::chrono::seconds verdict_cache_ttl{60};

// The flow a queued packet belongs to; nullopt for anything but TCP, UDP
// and echo requests (as in the rootless relay, nothing else leaves).
std::optional<flow_key> key_of_queued(const packet::frame& f) {
  flow_key key;
  key.protocol = f.protocol;
  key.src = f.src;
  key.dst = f.dst;
  if (f.kind == packet::l4_kind::tcp || f.kind == packet::l4_kind::udp) {
    key.src_port = f.kind == packet::l4_kind::tcp ? f.tcp.src_port : f.udp.src_port;
    key.dst_port = f.kind == packet::l4_kind::tcp ? f.tcp.dst_port : f.udp.dst_port;
    return key;
  }
  if (auto echo = packet::parse_echo_request(f)) {
    key.src_port = echo->id;
    return key;
  }
  return std::nullopt;
}

}  // namespace

kernel_gate::kernel_gate(asio::io_context& ctx, flow_services& services, kernel_path path)
    : ctx_(ctx),
      services_(services),
      path_(std::move(path)),
      strand_(asio::make_strand(ctx.get_executor())),
      queue_fd_(strand_),
      conntrack_fd_(strand_) {}

kernel_gate::~kernel_gate() = default;

result<void> kernel_gate::start() {
  asio::error_code ec;
  queue_fd_.assign(::dup(path_.queue.fd()), ec);
  if (!ec) conntrack_fd_.assign(::dup(path_.conntrack.fd()), ec);
  if (ec) return fail("kernel-path", "cannot watch the netfilter sockets: " + ec.message());
  const auto* policy = services_.policy();
  claim_mode_ = policy != nullptr && policy->judges_claimed_names();
  if (auto r = serve_dns(); !r) return r;
  if (auto r = listen_transparent(); !r) return r;
  if (auto r = watch_first_bytes(); !r) return r;
  asio::co_spawn(strand_, read_queue(), log_failure("the flow gate"));
  for (auto& a : transparent_) asio::co_spawn(strand_, accept_transparent(a), log_failure("the transparent listener"));
  asio::co_spawn(strand_, read_conntrack(), log_failure("the conntrack reader"));
  for (auto& s : dns_sockets_) asio::co_spawn(strand_, serve_dns_udp(s), log_failure("the DNS service"));
  return {};
}

void kernel_gate::sizes(std::function<void(relay_sizes)> done) {
  asio::post(strand_, [this, done = std::move(done)] {
    relay_sizes s;
    s.rootful = true;
    s.gate_pending = table_.pending();
    s.gate_decided = table_.decided();
    s.gate_claiming = table_.claiming();
    done(s);
  });
}

void kernel_gate::stop() {
  if (stopping_.exchange(true)) return;
  auto done = std::make_shared<std::promise<void>>();
  auto f = done->get_future();
  asio::post(strand_, [this, done] {
    close_services();
    close_flows();
    done->set_value();
  });
  f.wait_for(std::chrono::seconds(2));
}

asio::awaitable<void> kernel_gate::read_queue() {
  for (;;) {
    auto [ec] = co_await queue_fd_.async_wait(asio::posix::stream_descriptor::wait_read, use_tuple);
    if (ec || stopping_.load()) co_return;
    auto drained = path_.queue.drain([this](const nlmsghdr* m) {
      if (auto p = netfilter::parse_queued_packet(m)) on_queued(p->id, p->payload, p->hw_protocol);
    });
    if (!drained) {
      log::warn("the flow gate stopped: {}", drained.error().message);
      co_return;
    }
    if (drained->overrun) log::warn("the flow gate missed packets (queue overrun): they were dropped");
  }
}

void kernel_gate::send_verdict(std::uint32_t id, bool allow) {
  const auto* msg = netfilter::build_verdict(verdict_buf_.data(), path_.queue_num, id,
                                             allow ? netfilter::verdict::accept : netfilter::verdict::repeat,
                                             allow ? std::nullopt : std::optional<std::uint32_t>(path_.deny_mark));
  if (auto r = path_.queue.send(msg); !r) log::warn("flow gate verdict: {}", r.error().message);
}

void kernel_gate::on_queued(std::uint32_t id, std::span<const std::byte> l3, std::uint16_t hw_protocol) {
  thread_local std::vector<std::byte> scratch;
  const auto f = parse_l3(l3, hw_protocol, scratch);
  const auto key = f ? key_of_queued(*f) : std::nullopt;
  if (!key) return send_verdict(id, false);
  sniff_datagram(*key, *f);
  for (const auto& gw : path_.gateways)
    if (to_asio(key->dst) == gw) return send_verdict(id, true);  // ping the gateway
  switch (table_.on_packet(*key, id)) {
    case gate_table::action::accept:
      return send_verdict(id, true);
    case gate_table::action::reject:
      return send_verdict(id, false);
    case gate_table::action::wait:
      if (!quic_waits_.empty()) more_quic(*key, f->payload);
      return;
    case gate_table::action::judge: {
      services_.prefetch_owner(*key);
      if (key->protocol == packet::proto_tcp && awaits_claim(*key)) return let_go_for_claim(*key);  // its claim_flow decides
      std::vector<std::byte> first;  // QUIC judged by claim: the Initial's ClientHello names it
      if (sniffs_quic(*key)) first.assign(f->payload.begin(), f->payload.end());
      asio::co_spawn(strand_, judge_flow(*key, std::move(first)), log_failure("judging a flow"));
      return;
    }
  }
}

asio::awaitable<void> kernel_gate::judge_flow(flow_key key, std::vector<std::byte> first_datagram) {
  const bool tcp = key.protocol == packet::proto_tcp;
  bool allow = true;
  std::string policy_reason, rule;
  sniff::claim claim;
  if (const auto why = tcp ? std::nullopt : services_.datagram_refusal(key)) {
    allow = false;
    auto e = services_.flow_event(events::kind::denied, key, flow_record{});
    e.via.clear();
    e.reason = *why;
    services_.report(std::move(e), key, true);
  } else {
    policy::decision d;
    if (first_datagram.empty())
      d = co_await services_.judge(key);
    else
      d = co_await judge_quic(key, std::move(first_datagram), claim);
    allow = d.what == policy::verdict::allow;
    if (allow) {
      policy_reason = d.reason;
      rule = d.rule;
    } else {
      services_.denied(key, d, claim);
    }
  }
  if (allow && tcp) allow = co_await dial_if_proxied(key);
  // As the rootless relay holds the SYN-ACK: the owner lookup started at the
  // first packet has run while the client is surely alive (blocked on it).
  co_await services_.owner_looked_up();
  decided(key, allow, std::move(policy_reason), std::move(rule), std::move(claim));
}

// Proxy mode: the SYN waits until the tunnel is open, so a proxy that fails
// refuses the connect (proxy_failed, no flow_open). True: it may go.
asio::awaitable<bool> kernel_gate::dial_if_proxied(const flow_key& key) {
  if (transparent_.empty()) co_return true;
  auto flow = std::make_shared<transparent_flow>(services_, asio::make_strand(ctx_.get_executor()), key);
  const bool tunnel = co_await flow->dial();
  if (!tunnel) co_return false;  // proxy_failed was said
  dialed_.insert_or_assign(key, flow);
  spliced_.push_back(flow);
  co_return true;
}

void kernel_gate::decided(const flow_key& key, bool allow, std::string policy_reason, std::string rule,
                          sniff::claim claim) {
  for (auto id : table_.decide(key, allow)) send_verdict(id, allow);
  if (!allow) return;
  if (spliced_.size() >= 256 && spliced_.size() % 256 == 0)
    std::erase_if(spliced_, [](const auto& w) { return w.expired(); });
  const auto* policy = services_.policy();
  if (path_.cache_allowed && verdict_cacheable(key, policy_reason, services_.observing(),
                                               services_.settings().proxy != nullptr || claim_mode_,
                                               policy != nullptr && policy->address_verdicts_can_change()))
    path_.cache_allowed(key, verdict_cache_ttl);
  flow_record record;
  record.policy = std::move(policy_reason);
  record.rule = std::move(rule);
  record.claim = std::move(claim);
  if (key.protocol == packet::proto_tcp && services_.settings().proxy)
    record.via = proxy::display(*services_.settings().proxy);
  services_.opened(key, table_.opened(key, std::move(record)));
}

asio::awaitable<void> kernel_gate::read_conntrack() {
  for (;;) {
    auto [ec] = co_await conntrack_fd_.async_wait(asio::posix::stream_descriptor::wait_read, use_tuple);
    if (ec || stopping_.load()) co_return;
    auto drained = path_.conntrack.drain([this](const nlmsghdr* m) {
      auto e = netfilter::parse_conntrack(m);
      if (!e) return;
      // A TCP connection ends when both FINs (or a reset) went by, not when
      // its entry leaves TIME_WAIT: its end time is taken now, its bytes
      // (which only the destruction carries) later.
      if (e->event == netfilter::ct_event::updated && tcp_connection_over(*e))
        table_.finished(flow_key_of(e->original), std::chrono::steady_clock::now());
      if (e->event != netfilter::ct_event::destroyed) return;
      flow_ended(flow_key_of(e->original), e->orig_bytes, e->reply_bytes, end_of(*e));
    });
    if (!drained) {
      log::warn("the conntrack reader stopped: {}", drained.error().message);
      co_return;
    }
    if (drained->overrun) log::warn("conntrack events were lost (receive buffer full): some flow ends are missing");
  }
}

void kernel_gate::flow_ended(const flow_key& key, std::uint64_t out, std::uint64_t in, std::string_view end) {
  first_bytes_.forget(key);
  if (auto d = dialed_.find(key); d != dialed_.end()) {  // its connection never came
    d->second->shutdown();
    dialed_.erase(d);
  }
  if (auto failed = failed_connects_.find(key); failed != failed_connects_.end()) {  // netpen's connect said why
    end = failed->second;
    failed_connects_.erase(failed);
  }
  auto record = table_.ended(key);
  if (!record) return;
  record->bytes_out = out;
  record->bytes_in = in;
  record->end = end;
  services_.closed(key, *record);
}

// The run ends: read the tree's conntrack table once more for the counters
// of flows still tracked (a closed TCP flow lingers in TIME_WAIT for a
// second), and close them all.
void kernel_gate::close_flows() {
  std::array<char, 256> req{};
  bool done = false;
  std::unordered_map<flow_key, netfilter::conntrack_entry, flow_key_hash> last;
  auto on_message = [&](const nlmsghdr* m) {
    if (m->nlmsg_type == NLMSG_DONE || m->nlmsg_type == NLMSG_ERROR) done = true;
    if (auto e = netfilter::parse_conntrack(m)) last[flow_key_of(e->original)] = *e;
  };
  if (table_.any_open() && path_.conntrack.send(netfilter::build_conntrack_dump(req.data(), 1))) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
    while (!done && std::chrono::steady_clock::now() < deadline) {
      pollfd p{path_.conntrack.fd(), POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      if (!path_.conntrack.drain(on_message)) break;
    }
  }
  for (auto& [key, record] : table_.take_open()) {
    record.end = record.ended ? "closed" : "shutdown";  // over, its entry already gone: closed normally
    if (auto it = last.find(key); it != last.end()) {
      record.bytes_out = it->second.orig_bytes;
      record.bytes_in = it->second.reply_bytes;
      record.end = end_at_shutdown(it->second);
    }
    services_.closed(key, record);
  }
}

}  // namespace netpen::relay
