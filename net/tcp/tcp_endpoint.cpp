// The TCP endpoint's construction, its application-facing API (accept,
// abort, rx/tx queues, close) and the small shared helpers. Segment input
// lives in tcp_receive.cpp, output and timers in tcp_send.cpp.
#include "net/tcp/tcp_endpoint.hpp"

#include <algorithm>

#include "net/tcp/seq.hpp"

namespace netpen::tcp {

namespace flag = packet::tcp_flag;

const char* to_string(state s) {
  switch (s) {
    case state::syn_sent: return "syn_sent";
    case state::syn_received_pending: return "syn_received_pending";
    case state::syn_received: return "syn_received";
    case state::established: return "established";
    case state::close_wait: return "close_wait";
    case state::fin_wait_1: return "fin_wait_1";
    case state::fin_wait_2: return "fin_wait_2";
    case state::closing: return "closing";
    case state::last_ack: return "last_ack";
    case state::time_wait: return "time_wait";
    case state::closed: return "closed";
  }
  return "unknown";
}

std::uint8_t detail::wscale_for(std::size_t capacity) {
  std::uint8_t s = 0;
  while (s < detail::max_wscale && (capacity >> s) > 0xffff) ++s;
  return s;
}

endpoint::endpoint(const segment_in& syn, std::uint32_t isn, const config& cfg, time_point)
    : cfg_(cfg),
      rtt_(cfg.rto_initial, cfg.rto_min, cfg.rto_max),
      rx_(cfg.rx_capacity),
      tx_(std::min(cfg.tx_initial_capacity, cfg.tx_capacity)) {
  rto_ = rtt_.rto();
  irs_ = syn.seq;
  rcv_nxt_ = irs_ + 1;
  rcv_adv_edge_ = rcv_nxt_;
  if (syn.mss && *syn.mss != 0) peer_mss_ = *syn.mss;
  if (syn.wscale) {
    peer_wscale_ = std::min(*syn.wscale, detail::max_wscale);
    our_wscale_ = detail::wscale_for(cfg_.rx_capacity);
  }
  iss_ = isn;
  snd_una_ = snd_nxt_ = snd_max_ = iss_;
  tx_base_ = iss_ + 1;
  snd_wnd_ = syn.window;  // a SYN's window is never scaled (RFC 7323)
  snd_wl1_ = irs_;
  snd_wl2_ = iss_;
}

void endpoint::accept(time_point now) {
  if (state_ != state::syn_received_pending) return;
  state_ = state::syn_received;
  synack_pending_ = true;
  syn_deadline_ = now + cfg_.syn_received_timeout;
}

void endpoint::abort() {
  if (state_ == state::closed) return;
  if (state_ == state::syn_sent) {
    // Nothing synchronized: a late SYN-ACK finds no flow and is reset then.
  } else if (state_ == state::syn_received_pending) {
    queue_reset(0, rcv_nxt_);
  } else if (state_ != state::time_wait) {
    queue_reset(snd_max_, rcv_nxt_);
  }
  fail(false);
}

// --- rx ---------------------------------------------------------------------

std::array<std::span<const std::byte>, 2> endpoint::rx_data() const { return rx_.readable(); }
std::size_t endpoint::rx_size() const { return rx_.size(); }

void endpoint::rx_consume(std::size_t n) {
  rx_.consume(n);
  if (!synchronized() || rx_fin_) return;
  // Window update when the window the child knows is small and ours is now
  // large again (below one MSS, or below a quarter of the ring, to at least that).
  std::size_t known = seq::gt(rcv_adv_edge_, rcv_nxt_) ? seq::span(rcv_adv_edge_, rcv_nxt_) : 0;
  std::size_t unit = std::min<std::size_t>(cfg_.mss, rx_.capacity());
  std::size_t quarter = rx_.capacity() / 4;
  // What we can actually express after scaling.
  std::size_t expressible = static_cast<std::size_t>(window_field(false)) << our_wscale_;
  if ((known < unit && expressible >= unit) || (known < quarter && expressible >= quarter)) {
    ack_pending_ = true;
  }
}

bool endpoint::rx_finished() const { return rx_fin_ && rx_.empty(); }

// --- tx ---------------------------------------------------------------------

bool endpoint::idle_with_buffers() const {
  return rx_.empty() && tx_.empty() && (rx_.allocated() || tx_.allocated());
}

void endpoint::release_buffers() {
  rx_.release();
  if (tx_.empty()) tx_ = byte_ring(std::min(cfg_.tx_initial_capacity, cfg_.tx_capacity));
}

bool endpoint::tx_grow() {
  if (tx_.capacity() >= cfg_.tx_capacity) return false;
  tx_.grow(std::min(cfg_.tx_capacity, tx_.capacity() * 2));
  return true;
}

void endpoint::tx_grow_to_max() { tx_.grow(cfg_.tx_capacity); }

std::size_t endpoint::tx_free() const { return tx_closed_ || state_ == state::closed ? 0 : tx_.free(); }

std::array<std::span<std::byte>, 2> endpoint::tx_free_spans() {
  if (tx_free() == 0) return {};
  return tx_.writable();
}

void endpoint::tx_commit(std::size_t n) { tx_.commit(std::min(n, tx_free())); }

std::size_t endpoint::tx_write(std::span<const std::byte> data) {
  if (tx_free() == 0) return 0;
  return tx_.write(data);
}

void endpoint::tx_close() {
  if (state_ == state::closed) return;
  tx_closed_ = true;
}

bool endpoint::tx_drained() const { return tx_.empty() && (!tx_closed_ || fin_acked()); }

// --- accessors and helpers ---------------------------------------------------

std::size_t endpoint::peer_window() const { return snd_wnd_; }
std::size_t endpoint::bytes_in_flight() const { return seq::span(snd_max_, snd_una_); }

bool endpoint::synchronized() const {
  return state_ != state::syn_sent && state_ != state::syn_received_pending &&
         state_ != state::syn_received && state_ != state::closed;
}

std::size_t endpoint::rx_window() const { return rx_.free(); }

std::uint16_t endpoint::window_field(bool syn) const {
  std::size_t w = rx_window();
  if (syn || !peer_wscale_) return static_cast<std::uint16_t>(std::min<std::size_t>(w, 0xffff));
  return static_cast<std::uint16_t>(std::min<std::size_t>(w >> our_wscale_, 0xffff));
}

std::uint32_t endpoint::data_end() const { return seq::add(tx_base_, tx_.size()); }

bool endpoint::fin_acked() const { return tx_closed_ && seq::gt(snd_una_, fin_seq()); }

std::size_t endpoint::eff_mss() const {
  return std::max<std::size_t>(1, std::min<std::size_t>(peer_mss_, cfg_.mss));
}

void endpoint::queue_reset(std::uint32_t s, std::optional<std::uint32_t> ack) {
  segment_out r;
  r.seq = s;
  r.flags = flag::rst;
  if (ack) {
    r.ack = *ack;
    r.flags |= flag::ack;
  }
  rst_out_ = r;
}

void endpoint::fail(bool by_peer) {
  state_ = state::closed;
  reset_ = true;
  reset_by_peer_ = by_peer;
  rto_deadline_.reset();
  persist_deadline_.reset();
  time_wait_deadline_.reset();
  syn_deadline_.reset();
  ack_pending_ = false;
  syn_pending_ = false;
  synack_pending_ = false;
  dup_acks_to_send_ = 0;
}

void endpoint::enter_time_wait(time_point now) {
  state_ = state::time_wait;
  note_finished(now);
  rto_deadline_.reset();
  persist_deadline_.reset();
  time_wait_deadline_ = now + cfg_.time_wait;
  // Nothing more will be sent: empty rings give their storage back now, not
  // after the flow's idle delay, so a closed connection's buffers serve the
  // next one at once (short connections would otherwise each hold theirs
  // for the whole time_wait).
  if (idle_with_buffers()) release_buffers();
}

}  // namespace netpen::tcp
