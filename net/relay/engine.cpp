// The rootless engine's tap reader, TCP dispatch and lifecycle (see engine.hpp).
#include "net/relay/engine.hpp"

#include <asio/co_spawn.hpp>
#include <asio/post.hpp>
#include <unistd.h>

#include "net/common/asio_helpers.hpp"
#include "net/common/log.hpp"
#include "net/common/sandbox_addresses.hpp"
#include "net/packet/neighbor.hpp"
#include "net/relay/destination.hpp"
#include "net/relay/flow_services.hpp"
#include "net/relay/icmp_echo_flow.hpp"
#include "net/relay/tap_ring.hpp"
#include "net/relay/tcp_flow.hpp"
#include "net/relay/udp_flow.hpp"
#include "net/tcp/closed_reset.hpp"

namespace netpen::relay {
namespace {
constexpr int max_frames_per_wakeup = 64;

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

}  // namespace

engine::engine(asio::io_context& ctx, flow_services& services, packet_pool& pool, engine_options opts)
    : ctx_(ctx),
      services_(services),
      opts_(opts),
      pool_(pool),
      dispatch_(asio::make_strand(ctx.get_executor())),
      tap_(dispatch_),
      tcp_flows_(dispatch_),
      udp_flows_(dispatch_),
      icmp_flows_(dispatch_),
      isn_rng_(std::random_device{}()) {}

engine::~engine() {
  asio::error_code ignored;
  tap_.close(ignored);
}

void engine::attach_tap(int tap_fd, bool one_thread) {
  services_.tap().set_fd(tap_fd);
  services_.tap().set_observer(opts_.capture);
  // Here, on the caller's thread: the ring is set up before netpen confines itself.
  if (auto ring = tap_ring::open(tap_fd)) services_.tap().use_ring(std::move(ring), ctx_.get_executor());
  one_thread_ = one_thread;
  asio::post(dispatch_, [this, tap_fd] {
    asio::error_code ec;
    tap_.assign(tap_fd, ec);
    if (!ec) tap_.non_blocking(true, ec);
    if (ec) {
      log::warn("cannot use the tap: {}", ec.message());
      return;
    }
    if (services_.tap().has_ring())
      asio::co_spawn(dispatch_, read_tap_ring(), log_failure("the tap reader"));
    else
      asio::co_spawn(dispatch_, read_tap(), log_failure("the tap reader"));
  });
}

void engine::stop_flows() {
  if (stopping_.exchange(true)) return;
  asio::post(dispatch_, [this] {
    asio::error_code ignored;
    tap_.cancel(ignored);
    tcp_flows_.for_each([](tcp_flow& f) { f.shutdown(); });
    udp_flows_.for_each([](udp_flow& f) { f.shutdown(); });
    icmp_flows_.for_each([](icmp_echo_flow& f) { f.shutdown(); });
  });
  std::unique_lock lock(live_mu_);
  live_cv_.wait_for(lock, opts_.shutdown_grace, [this] { return live_flows_ == 0; });
}

engine_stats engine::stats() const {
  engine_stats s;
  s.frames_in = frames_in_.load();
  s.frames_malformed = malformed_.load();
  s.frames_ignored = ignored_.load();
  s.tcp_flows = tcp_flows_total_.load();
  s.dns_udp_queries = services_.dns_udp_queries();
  s.udp_dropped = udp_dropped_.load();
  s.tcp_unknown_rst = unknown_rst_.load();
  s.udp_flows = udp_flows_total_.load();
  s.udp_evicted = udp_evicted_.load();
  s.datagrams_shed = shed_.load();
  s.frames_out = services_.tap().frames_sent();
  s.frames_out_dropped = services_.tap().frames_dropped();
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
    int drained = 0;
    for (; drained < max_frames_per_wakeup; ++drained) {
      auto more = pool_.get();
      const ssize_t r = ::read(tap_.native_handle(), more.whole().data(), more.whole().size());
      if (r <= 0) break;
      more.set_size(static_cast<std::size_t>(r), sandbox::tap_vnet_header_size);
      handle_frame(std::move(more));
    }
    end_batch();
    shedding_.end_round(drained < max_frames_per_wakeup);
  }
}

// With the tap's ring: each io_uring_enter submits the frames written since
// the last one (the previous batch's answers) and max_reads reads; a batch
// ends when one comes back with no frame, so the read that finds the tap
// empty costs no system call of its own.
asio::awaitable<void> engine::read_tap_ring() {
  std::array<packet_buffer, tap_ring::max_reads> bufs;
  while (!stopping_.load()) {
    if (auto ec = co_await wait_for_tap(bufs[0])) {
      if (ec != asio::error::operation_aborted && !stopping_.load()) log::debug("tap read: {}", ec.message());
      co_return;
    }
    for (int frames = 0;;) {
      for (auto& b : bufs)
        if (!b) b = pool_.get();
      const std::size_t n = services_.tap().flush_and_read(bufs);
      for (std::size_t i = 0; i < n; ++i) handle_frame(std::move(bufs[i]));
      end_batch();  // also for the frame wait_for_tap may have handled
      if (n == 0) {
        shedding_.end_round(true);
        break;
      }
      // A tap that never runs dry (a UDP sender at full rate) must not
      // starve the rest of the strand: new flows start, host sockets are
      // written and timers fire in handlers queued behind this one.
      frames += static_cast<int>(n);
      if (frames >= max_frames_per_wakeup) {
        frames = 0;
        // Overloaded when the last batch took every read it offered: more
        // is likely waiting in the tap's ring.
        shedding_.end_round(n < bufs.size());
        co_await asio::post(dispatch_, asio::use_awaitable);
      }
    }
  }
}

// Until the tap has a frame. One relay thread: a bare wait (epoll's edge is
// seen by this thread only, after the wait is queued). More threads: another
// thread's epoll could take the edge before the wait is queued, so a real
// read (Asio retries it at once after such an edge); its frame, if it got
// one, is handled here.
asio::awaitable<asio::error_code> engine::wait_for_tap(packet_buffer& buf) {
  if (one_thread_) {
    auto [ec] = co_await tap_.async_wait(asio::posix::descriptor_base::wait_read, use_tuple);
    co_return ec;
  }
  if (!buf) buf = pool_.get();
  auto [ec, n] = co_await tap_.async_read_some(asio::buffer(buf.whole().data(), buf.whole().size()), use_tuple);
  if (ec) co_return ec;
  buf.set_size(n, sandbox::tap_vnet_header_size);
  handle_frame(std::move(buf));
  co_return asio::error_code{};
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
    services_.tap().send_frame(*reply);
    return true;
  }
  if (f.ethertype == packet::ethertype_arp) ignored_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

void engine::handle_tcp(packet_buffer buf, const packet::frame& f) {
  const flow_key key = key_of(f);
  auto it = tcp_flows_.find_live(key);
  if (it != tcp_flows_.end()) {
    const auto seg = to_segment(f);
    if ((seg.flags & packet::tcp_flag::syn) && !(seg.flags & packet::tcp_flag::ack))
      log::debug("{}: SYN for a live flow", to_string(key));
    it->second->deliver(std::move(buf), seg);
    if (!it->second->batch_pending) {
      it->second->batch_pending = true;
      batch_flows_.push_back(it->second);
    }
    return;
  }
  const auto flags = f.tcp.flags;
  const bool opening = (flags & packet::tcp_flag::syn) && !(flags & (packet::tcp_flag::ack | packet::tcp_flag::rst));
  if (opening && !stopping_.load()) return start_tcp_flow(key, f);
  answer_unknown_segment(key, f);
}

void engine::start_tcp_flow(const flow_key& key, const packet::frame& f) {
  tcp::config cfg;
  cfg.mss = static_cast<std::uint16_t>(sandbox::tap_mtu - (key.dst.v6 ? 60 : 40));
  auto flow = std::make_shared<tcp_flow>(services_, asio::make_strand(ctx_.get_executor()), key, to_segment(f),
                                         f.ip_packet, f.ttl, static_cast<std::uint32_t>(isn_rng_()), cfg,
                                         done_for(tcp_flows_));
  tcp_flows_.insert(key, flow);
  services_.prefetch_owner(key);
  tcp_flows_total_.fetch_add(1, std::memory_order_relaxed);
  flow_started();
  flow->start();
}

void engine::answer_unknown_segment(const flow_key& key, const packet::frame& f) {
  const auto reset = tcp::reset_for_closed(to_segment(f));
  if (!reset) return;  // never answer a RST
  unknown_rst_.fetch_add(1, std::memory_order_relaxed);
  log::debug("{}: segment for no connection (flags {:#x}): RST", to_string(key), f.tcp.flags);
  services_.tap().send_tcp_reset(key, reset->seq, reset->ack, reset->with_ack);
}

void engine::sizes(std::function<void(relay_sizes)> done) {
  asio::post(dispatch_, [this, done = std::move(done)] {
    relay_sizes s;
    {
      std::lock_guard lock(live_mu_);
      s.live_flows = live_flows_;
    }
    s.tcp = tcp_flows_.size();
    s.udp = udp_flows_.size();
    s.icmp = icmp_flows_.size();
    s.denied_said = denied_.size();
    s.inbound_udp = inbound_udp_.size();
    done(s);
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

}  // namespace netpen::relay
