// The relay engine's tap reader, dispatcher and lifecycle (see engine.hpp).
#include "net/relay/engine.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <unistd.h>

#include <cstdlib>

#include "net/common/log.hpp"
#include "net/common/sandbox_addresses.hpp"
#include "net/packet/icmp.hpp"
#include "net/dns/exchange_event.hpp"
#include "net/packet/neighbor.hpp"
#include "net/proxy/tls_setup.hpp"
#include "net/relay/destination.hpp"
#include "net/relay/icmp_echo_flow.hpp"
#include "net/relay/tcp_flow.hpp"
#include "net/relay/udp_flow.hpp"

namespace netpen::relay {
namespace {
constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr int max_frames_per_wakeup = 64;
constexpr std::size_t max_dns_in_flight = 512;

tcp::segment_in to_segment(const packet::frame& f) {
  tcp::segment_in s;
  s.seq = f.tcp.seq;
  s.ack = f.tcp.ack;
  s.flags = f.tcp.flags;
  s.window = f.tcp.window;
  s.mss = f.tcp.mss;
  s.wscale = f.tcp.wscale;
  s.payload = f.payload;
  return s;
}

flow_key key_of(const packet::frame& f) {
  flow_key k;
  k.protocol = f.protocol;
  k.src = f.src;
  k.dst = f.dst;
  k.src_port = f.kind == packet::l4_kind::tcp ? f.tcp.src_port : f.udp.src_port;
  k.dst_port = f.kind == packet::l4_kind::tcp ? f.tcp.dst_port : f.udp.dst_port;
  return k;
}

// The relay shares the machine with the command and its peers: half the
// cores (one on a 2-core machine, where a second relay thread only adds
// cross-thread wake-ups: measured in docs/performance.md). NETPEN_THREADS
// overrides it.
unsigned default_threads() {
  if (const char* v = std::getenv("NETPEN_THREADS")) {
    const int n = std::atoi(v);
    if (n >= 1 && n <= 64) return static_cast<unsigned>(n);
  }
  return std::max(1u, std::thread::hardware_concurrency() / 2);
}

unsigned thread_count(const engine_options& o) { return o.threads != 0 ? o.threads : default_threads(); }

// One thread: Asio may then queue work posted from that thread on the
// thread itself, instead of waking the reactor (an epoll_ctl per post).
int concurrency_hint(const engine_options& o) { return thread_count(o) == 1 ? 1 : ASIO_CONCURRENCY_HINT_DEFAULT; }

void log_exception(std::exception_ptr e, const char* what) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    log::warn("{} failed: {}", what, ex.what());
  }
}
}  // namespace

engine::engine(engine_options opts)
    : opts_(std::move(opts)),
      ctx_(concurrency_hint(opts_)),
      dispatch_(asio::make_strand(ctx_.get_executor())),
      tap_(dispatch_),
      events_(asio::make_strand(ctx_.get_executor())),
      isn_rng_(std::random_device{}()) {}

engine::~engine() { stop(); }

result<void> engine::start() {
  dns::forwarder_options dns_opts;
  if (opts_.proxy && (opts_.proxy_only || opts_.proxy->kind == proxy::scheme::socks5h)) {
    synthetic_ = std::make_shared<dns::synthetic_names>();
    dns_opts.synthetic = synthetic_;
  }
  if (opts_.proxy && opts_.proxy->kind == proxy::scheme::https) {
    auto tls = proxy::make_tls_context(opts_.proxy->insecure);
    if (!tls) return unexpected<error>(tls.error());
    proxy_tls_ = std::move(*tls);
  }
  if (opts_.policy) dns_opts.allow_query = [this](const std::string& qname) { return query_allowed(qname); };
  dns_ = std::make_unique<dns::forwarder>(ctx_.get_executor(), opts_.dns_upstreams, opts_.hosts_overlay, dns_opts);
  dns_->on_answer([this, names = names_](const std::string& qname, const std::vector<dns::answer_record>& records) {
    names->record(qname, records);
    learn_names(qname, records);
  });
  if (opts_.observe) {
    // UDP queries are published by handle_dns_udp (it knows the child's
    // socket); TCP ones arrive here from the forwarder's TCP service.
    dns_->on_exchange([this](dns::transport t, dns::byte_view query, dns::byte_view reply) {
      if (t != dns::transport::tcp) return;
      auto q = dns::query_event(query, "tcp");
      auto a = dns::answer_event(query, reply, "tcp");
      if (q) emit(std::move(*q));
      if (a) emit(std::move(*a));
    });
  }
  auto ep = dns_->start_tcp_service();
  if (!ep) return unexpected<error>(ep.error());
  dns_tcp_endpoint_ = *ep;

  work_.emplace(ctx_.get_executor());
  const unsigned n = thread_count(opts_);
  for (unsigned i = 0; i < n; ++i) threads_.emplace_back([this] { ctx_.run(); });
  log::debug("relay engine started with {} threads; DNS over TCP served at {}:{}", n,
             dns_tcp_endpoint_.address().to_string(), dns_tcp_endpoint_.port());
  return {};
}

void engine::attach_tap(int tap_fd) {
  writer_.set_fd(tap_fd);
  writer_.set_observer(opts_.capture);
  asio::post(dispatch_, [this, tap_fd] {
    asio::error_code ec;
    tap_.assign(tap_fd, ec);
    if (!ec) tap_.non_blocking(true, ec);
    if (ec) {
      log::warn("cannot use the tap: {}", ec.message());
      return;
    }
    asio::co_spawn(dispatch_, read_tap(), [](std::exception_ptr e) { log_exception(e, "tap reader"); });
  });
}

void engine::stop() {
  if (stopping_.exchange(true)) return;
  if (!threads_.empty()) {
    asio::post(dispatch_, [this] {
      asio::error_code ignored;
      tap_.cancel(ignored);
      for (auto& [key, flow] : flows_) flow->shutdown();
      for (auto& [key, flow] : udp_flows_) flow->shutdown();
      for (auto& [key, flow] : icmp_flows_) flow->shutdown();
    });
    {
      std::unique_lock lock(live_mu_);
      live_cv_.wait_for(lock, opts_.shutdown_grace, [this] { return live_flows_ == 0; });
    }
    if (kernel_) stop_kernel_path();
    if (dns_) dns_->stop();
    drain_events();
    work_.reset();
    ctx_.stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }
  flows_.clear();
  udp_flows_.clear();
  icmp_flows_.clear();
  asio::error_code ignored;
  tap_.close(ignored);
}

engine_stats engine::stats() const {
  engine_stats s;
  s.frames_in = frames_in_.load();
  s.frames_malformed = malformed_.load();
  s.frames_ignored = ignored_.load();
  s.tcp_flows = tcp_flows_.load();
  s.dns_udp_queries = dns_udp_.load();
  s.udp_dropped = udp_dropped_.load();
  s.tcp_unknown_rst = unknown_rst_.load();
  s.udp_flows = udp_flows_total_.load();
  s.udp_evicted = udp_evicted_.load();
  s.frames_out = writer_.frames_sent();
  s.frames_out_dropped = writer_.frames_dropped();
  return s;
}

asio::awaitable<void> engine::read_tap() {
  while (!stopping_.load()) {
    auto buf = pool_.get();
    auto [ec, n] = co_await tap_.async_read_some(asio::buffer(buf.whole().data(), buf.whole().size()), use_tuple);
    if (ec) {
      if (ec != asio::error::operation_aborted && !stopping_.load()) log::debug("tap read: {}", ec.message());
      co_return;
    }
    // The virtio-net header in front says at most that the L4 checksum is
    // partial (the child's kernel left it to us); nothing here checks it.
    buf.set_size(n, sandbox::tap_vnet_header_size);
    handle_frame(std::move(buf));
    // Drain what else is queued without going back through the reactor.
    for (int i = 0; i < max_frames_per_wakeup; ++i) {
      auto more = pool_.get();
      const ssize_t r = ::read(tap_.native_handle(), more.whole().data(), more.whole().size());
      if (r <= 0) break;
      more.set_size(static_cast<std::size_t>(r), sandbox::tap_vnet_header_size);
      handle_frame(std::move(more));
    }
    end_batch();
  }
}

// One answer per flow per batch: the ACK for all its segments, and the
// data the endpoint has due.
void engine::end_batch() {
  for (auto& flow : batch_flows_) {
    flow->batch_pending = false;
    flow->end_of_batch();
  }
  batch_flows_.clear();
}

void engine::handle_frame(packet_buffer buf) {
  frames_in_.fetch_add(1, std::memory_order_relaxed);
  if (opts_.capture != nullptr) opts_.capture->frame(frame_direction::from_child, buf.bytes(), {}, {});
  auto parsed = packet::parse_frame(buf.bytes());
  if (!parsed) {
    malformed_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const packet::frame& f = *parsed;
  if (f.ethertype == packet::ethertype_arp || f.protocol == packet::proto_icmpv6) {
    if (answer_neighbor(f, buf.bytes()) || f.ethertype == packet::ethertype_arp) return;
  }
  if (f.ip_packet.empty() || !is_child(f.src)) {
    ignored_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  switch (f.kind) {
    case packet::l4_kind::tcp:
      handle_tcp(std::move(buf), f);
      return;
    case packet::l4_kind::udp:
      handle_udp(std::move(buf), f);
      return;
    case packet::l4_kind::icmp:
      handle_icmp(f);
      return;
    default:
      ignored_.fetch_add(1, std::memory_order_relaxed);
      return;
  }
}

bool engine::answer_neighbor(const packet::frame& f, std::span<const std::byte> raw) {
  const auto gw4 = gateway_address(false);
  const auto gw6 = gateway_address(true);
  if (auto reply = packet::answer_neighbor_solicitation(f, raw, sandbox::gateway_mac, gw4, gw6)) {
    writer_.send_frame(*reply);
    return true;
  }
  if (f.ethertype == packet::ethertype_arp) ignored_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

// Echo requests: answered locally for the gateway (as a router would), else
// relayed by a ping flow per (destination, identifier). Other ICMP from the
// child (errors it sends, router solicitations, MLD) is not relayed.
void engine::handle_icmp(const packet::frame& f) {
  const auto echo = packet::parse_echo_request(f);
  if (!echo) {
    ignored_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (is_gateway(f.dst)) {
    writer_.send_frame(packet::build_echo_reply(sandbox::gateway_mac, sandbox::child_mac, f.dst, f.src, 64, echo->id,
                                                echo->seq, echo->payload));
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
  auto it = find_live(icmp_flows_, key);
  if (deny_datagram(key, f, it == icmp_flows_.end())) return;
  if (it == icmp_flows_.end()) {
    if (stopping_.load() || icmp_flows_.size() >= opts_.udp.max_flows) {
      ignored_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    auto flow = std::make_shared<icmp_echo_flow>(*this, asio::make_strand(ctx_.get_executor()), key, opts_.udp);
    it = icmp_flows_.emplace(key, flow).first;
    flow_started();
    flow->start();
  }
  it->second->send(echo->seq, std::vector<std::byte>(echo->payload.begin(), echo->payload.end()),
                   std::vector<std::byte>(f.ip_packet.begin(), f.ip_packet.begin() +
                                                               static_cast<std::ptrdiff_t>(std::min<std::size_t>(f.ip_packet.size(), 576))),
                   f.ttl);
}

void engine::icmp_flow_finished(const flow_key& key, std::shared_ptr<icmp_echo_flow> flow) {
  forget(icmp_flows_, key, std::move(flow));
}

void engine::handle_tcp(packet_buffer buf, const packet::frame& f) {
  const flow_key key = key_of(f);
  const auto seg = to_segment(f);
  const bool syn = (seg.flags & packet::tcp_flag::syn) != 0;
  const bool ack = (seg.flags & packet::tcp_flag::ack) != 0;
  const bool rst = (seg.flags & packet::tcp_flag::rst) != 0;

  auto it = find_live(flows_, key);
  if (it != flows_.end()) {
    if (syn && !ack) log::debug("{}: SYN for a live flow", to_string(key));
    it->second->deliver(std::move(buf), seg);
    if (!it->second->batch_pending) {
      it->second->batch_pending = true;
      batch_flows_.push_back(it->second);
    }
    return;
  }
  if (syn && !ack && !rst && !stopping_.load()) {
    tcp::config cfg;
    cfg.mss = static_cast<std::uint16_t>(sandbox::tap_mtu - (key.dst.v6 ? 60 : 40));
    auto flow = std::make_shared<tcp_flow>(*this, asio::make_strand(ctx_.get_executor()), key, seg, f.ip_packet,
                                           f.ttl, static_cast<std::uint32_t>(isn_rng_()), cfg);
    flows_.emplace(key, flow);
    prefetch_owner(key);
    tcp_flows_.fetch_add(1, std::memory_order_relaxed);
    flow_started();
    flow->start();
    return;
  }
  if (rst) return;  // never answer a RST
  unknown_rst_.fetch_add(1, std::memory_order_relaxed);
  log::debug("{}: segment for no connection (flags {:#x}): RST", to_string(key), seg.flags);
  // No such connection: RST as RFC 9293 says for the CLOSED state.
  const auto len = static_cast<std::uint32_t>(seg.payload.size() + (syn ? 1 : 0) +
                                             ((seg.flags & packet::tcp_flag::fin) ? 1 : 0));
  if (ack)
    writer_.send_tcp_reset(key, seg.ack, 0, false);
  else
    writer_.send_tcp_reset(key, 0, seg.seq + len, true);
}

void engine::handle_udp(packet_buffer buf, const packet::frame& f) {
  const flow_key key = key_of(f);
  if (key.dst_port == 53) {
    handle_dns_udp(key, f);
    return;
  }
  if (classify(key.dst, key.dst_port).kind != destination_kind::relay) {
    udp_dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  auto it = find_live(udp_flows_, key);
  if (deny_datagram(key, f, it == udp_flows_.end())) return;
  if (it == udp_flows_.end()) {
    if (stopping_.load()) return;
    make_room_for_udp_flow();
    warn_if_encrypted_dns(key);
    auto flow = std::make_shared<udp_flow>(*this, asio::make_strand(ctx_.get_executor()), key, opts_.udp);
    it = udp_flows_.emplace(key, flow).first;
    udp_flows_total_.fetch_add(1, std::memory_order_relaxed);
    flow_started();
    flow->start();
  }
  it->second->send(std::move(buf), f.payload, f.ip_packet, f.ttl);
}

// The table is full: the flow idle the longest makes room.
void engine::make_room_for_udp_flow() {
  if (udp_flows_.size() < opts_.udp.max_flows) return;
  std::vector<decltype(udp_flows_)::iterator> entries;
  entries.reserve(udp_flows_.size());
  for (auto it = udp_flows_.begin(); it != udp_flows_.end(); ++it) entries.push_back(it);
  const auto victim = oldest_idle(entries.size(), [&](std::size_t i) { return entries[i]->second->last_activity(); });
  if (!victim) return;
  entries[*victim]->second->shutdown();
  udp_flows_.erase(entries[*victim]);
  udp_evicted_.fetch_add(1, std::memory_order_relaxed);
}

void engine::icmp_error_to_child(const flow_key& key, const icmp_report& report,
                                 std::span<const std::byte> quoted_packet) {
  if (quoted_packet.empty() || report.offender.v6 != key.src.v6) return;
  log::debug("{}: ICMP type {} code {} from {}", to_string(key), report.type, report.code,
             to_string(report.offender));
  packet::icmp_error_spec spec;
  spec.src_mac = sandbox::gateway_mac;
  spec.dst_mac = sandbox::child_mac;
  spec.from = report.offender;
  spec.to = key.src;
  spec.type = report.type;
  spec.code = report.code;
  spec.rest = report.info;
  spec.quoted_ip_packet = quoted_packet;
  writer_.send_frame(packet::build_icmp_error(spec));
}

void engine::udp_flow_finished(const flow_key& key, std::shared_ptr<udp_flow> flow) {
  forget(udp_flows_, key, std::move(flow));
}

void engine::handle_dns_udp(const flow_key& key, const packet::frame& f) {
  if (dns_in_flight_.load() >= max_dns_in_flight) {
    udp_dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  dns_udp_.fetch_add(1, std::memory_order_relaxed);
  dns_in_flight_.fetch_add(1);
  std::vector<std::byte> query(f.payload.begin(), f.payload.end());
  asio::co_spawn(
      ctx_.get_executor(),
      [this, key, q = std::move(query)]() mutable -> asio::awaitable<void> {
        std::vector<std::byte> copy;
        if (opts_.observe) {
          copy = q;
          dns_udp_exchange(key, copy, std::nullopt);  // now, while the asking socket surely exists
        }
        auto reply = co_await dns_->answer(std::move(q), dns::transport::udp);
        if (!reply.empty() && !stopping_.load()) writer_.send_udp(key, reply);
        if (opts_.observe) dns_udp_exchange(key, copy, reply);
      },
      [this](std::exception_ptr e) {
        dns_in_flight_.fetch_sub(1);
        log_exception(e, "dns query");
      });
}

void engine::flow_started() {
  std::lock_guard lock(live_mu_);
  ++live_flows_;
}

void engine::flow_ended() {
  std::lock_guard lock(live_mu_);
  --live_flows_;
  live_cv_.notify_all();
}

void engine::flow_finished(const flow_key& key, std::shared_ptr<tcp_flow> flow) {
  forget(flows_, key, std::move(flow));
}

}  // namespace netpen::relay
