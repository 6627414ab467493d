// The TCP endpoint's output and timers: poll() emits SYN-ACK, data within
// the child's window, FIN, ACKs, RSTs and zero-window probes; the RTO
// (go-back-N with exponential backoff), persist, TIME-WAIT and SYN-RECEIVED
// timers; next_deadline().
#include <algorithm>

#include "net/tcp/seq.hpp"
#include "net/tcp/tcp_endpoint.hpp"

namespace netpen::tcp {

namespace flag = packet::tcp_flag;
using emit_fn = std::function<void(const segment_out&)>;

namespace {
duration backed_off(duration base, int shifts, duration cap) {
  for (int i = 0; i < shifts && base < cap; ++i) base *= 2;
  return std::min(base, cap);
}
}  // namespace

segment_out endpoint::make_segment(std::uint32_t s, std::uint8_t flags) {
  segment_out out;
  out.seq = s;
  out.ack = rcv_nxt_;
  out.flags = static_cast<std::uint8_t>(flags | flag::ack);
  const bool syn = (flags & flag::syn) != 0;
  out.window = window_field(syn);
  const std::size_t shift = syn || !peer_wscale_ ? 0 : our_wscale_;
  rcv_adv_edge_ = seq::max(rcv_adv_edge_, seq::add(rcv_nxt_, std::size_t{out.window} << shift));
  ack_pending_ = false;
  if (dup_acks_to_send_ > 0) --dup_acks_to_send_;
  return out;
}

// Emits one segment carrying `len` tx bytes from sequence `s` (plus flags).
void endpoint::send_segment(std::uint32_t s, std::size_t len, std::uint8_t flags, const emit_fn& emit) {
  segment_out out = make_segment(s, flags);
  if (len > 0) out.payload = tx_.peek(seq::span(s, tx_base_), len);
  emit(out);
}

void endpoint::poll(time_point now, const emit_fn& emit) {
  if (state_ != state::closed && state_ != state::syn_received_pending) run_timers(now);
  if (rst_out_) {
    emit(*rst_out_);
    rst_out_.reset();
  }
  if (state_ == state::closed || state_ == state::syn_received_pending) return;

  if (state_ == state::syn_sent) {
    emit_syn(now, emit);
    update_timers(now);
    return;
  }
  if (state_ == state::syn_received) {
    if (synack_pending_) {
      segment_out out = make_segment(iss_, flag::syn);
      out.mss = cfg_.mss;
      if (peer_wscale_) out.wscale = our_wscale_;
      synack_pending_ = false;
      if (!synack_retransmit_ && !rtt_active_) {
        rtt_active_ = true;
        rtt_seq_ = iss_ + 1;
        rtt_start_ = now;
      }
      synack_retransmit_ = true;  // any later copy is a retransmission
      snd_nxt_ = iss_ + 1;
      snd_max_ = seq::max(snd_max_, snd_nxt_);
      emit(out);
    }
    update_timers(now);
    return;
  }

  on_persist(now, emit);
  if (fast_rtx_pending_) {
    fast_rtx_pending_ = false;
    const std::uint32_t end = data_end();
    const std::uint32_t sent_end = seq::lt(snd_max_, end) ? snd_max_ : end;
    const bool fin_out = tx_closed_ && seq::gt(snd_max_, end);
    if (seq::lt(snd_una_, sent_end)) {
      std::size_t n = std::min(eff_mss(), seq::span(sent_end, snd_una_));
      std::uint8_t f = flag::psh;
      if (fin_out && seq::add(snd_una_, n) == end) f |= flag::fin;
      send_segment(snd_una_, n, f, emit);
    } else if (fin_out && snd_una_ == end) {
      send_segment(snd_una_, 0, flag::fin, emit);
    }
  }
  send_data(now, emit);
  while (ack_pending_ || dup_acks_to_send_ > 0) send_segment(snd_nxt_, 0, 0, emit);
  update_timers(now);
}

void endpoint::send_data(time_point now, const emit_fn& emit) {
  if (state_ != state::established && state_ != state::close_wait && state_ != state::fin_wait_1 &&
      state_ != state::closing && state_ != state::last_ack) {
    return;
  }
  for (;;) {
    const std::uint32_t end = data_end();
    const bool fresh = !seq::lt(snd_nxt_, snd_max_);
    std::uint8_t f = 0;
    std::size_t n = 0;
    if (seq::lt(snd_nxt_, end)) {
      const std::size_t avail = seq::span(end, snd_nxt_);
      const std::uint32_t right = seq::add(snd_una_, snd_wnd_);
      std::size_t usable = seq::gt(right, snd_nxt_) ? seq::span(right, snd_nxt_) : 0;
      if (usable == 0) {
        if (!force_one_) break;
        usable = eff_mss();  // the RTO retransmission goes out regardless
      }
      n = std::min({avail, eff_mss(), usable});
      if (n == avail) {
        f |= flag::psh;
        if (tx_closed_) f |= flag::fin;
      } else if (n == usable) {
        f |= flag::psh;
      }
    } else if (tx_closed_ && snd_nxt_ == end) {
      f = flag::fin;  // a FIN needs no window
    } else {
      break;
    }
    force_one_ = false;
    if (fresh && !rtt_active_) {
      rtt_active_ = true;
      rtt_seq_ = seq::add(snd_nxt_, n);
      rtt_start_ = now;
    }
    send_segment(snd_nxt_, n, f, emit);
    snd_nxt_ = seq::add(snd_nxt_, n + ((f & flag::fin) != 0 ? 1 : 0));
    snd_max_ = seq::max(snd_max_, snd_nxt_);
    if ((f & flag::fin) != 0) {
      if (state_ == state::established) state_ = state::fin_wait_1;
      if (state_ == state::close_wait) {
        state_ = state::last_ack;
        note_finished(now);
      }
      break;
    }
  }
}

void endpoint::run_timers(time_point now) {
  if (time_wait_deadline_ && now >= *time_wait_deadline_) {
    state_ = state::closed;
    time_wait_deadline_.reset();
    return;
  }
  if (syn_deadline_ && now >= *syn_deadline_) {
    queue_reset(snd_max_, rcv_nxt_);
    fail(false);
    return;
  }
  if (rto_deadline_ && now >= *rto_deadline_) on_rto(now);
}

void endpoint::on_rto(time_point now) {
  rto_deadline_.reset();
  if (state_ == state::syn_sent) {
    on_syn_rto();
    if (state_ == state::closed) return;
    rto_ = std::min(rto_ * 2, cfg_.rto_max);
    rto_deadline_ = now + rto_;
    return;
  }
  if (++retries_ > cfg_.max_retransmissions) {
    queue_reset(snd_max_, rcv_nxt_);
    fail(false);
    return;
  }
  rto_ = std::min(rto_ * 2, cfg_.rto_max);
  rtt_active_ = false;  // Karn: nothing in flight may be timed now
  dup_acks_ = 0;
  if (state_ == state::syn_received) {
    synack_pending_ = true;
    synack_retransmit_ = true;
  } else {
    snd_nxt_ = snd_una_;  // go-back-N
    force_one_ = true;
  }
  rto_deadline_ = now + rto_;
}

// Zero-window probe: one byte at SND.UNA, resent with backoff while the
// child keeps its window shut. Probes the child answers do not count
// toward giving up; max_retransmissions unanswered probes in a row do.
void endpoint::on_persist(time_point now, const emit_fn& emit) {
  if (!persist_active_ || !persist_deadline_ || now < *persist_deadline_) return;
  if (++probes_unanswered_ > cfg_.max_retransmissions) {
    queue_reset(snd_max_, rcv_nxt_);
    fail(false);
    emit(*rst_out_);
    rst_out_.reset();
    return;
  }
  if (seq::lt(snd_una_, data_end())) {
    send_segment(snd_una_, 1, 0, emit);
    snd_nxt_ = seq::max(snd_nxt_, seq::add(snd_una_, 1));
    snd_max_ = seq::max(snd_max_, snd_nxt_);
  }
  ++persist_backoff_;
  persist_deadline_ = now + backed_off(rto_, persist_backoff_, cfg_.rto_max);
}

void endpoint::update_timers(time_point now) {
  if (state_ == state::closed || state_ == state::syn_received_pending) return;
  const bool unsent = seq::lt(snd_nxt_, data_end());
  const bool outstanding = snd_una_ != snd_max_;
  const bool can_send = state_ == state::established || state_ == state::close_wait;
  if (persist_active_) {
    if (snd_wnd_ > 0 || !seq::lt(snd_una_, data_end())) {
      // A probe byte the child has not taken goes out again in order.
      if (snd_wnd_ > 0) snd_nxt_ = snd_una_;
      persist_active_ = false;
      persist_deadline_.reset();
      persist_backoff_ = 0;
    }
  } else if (can_send && snd_wnd_ == 0 && unsent && !outstanding) {
    persist_active_ = true;
    persist_backoff_ = 0;
    persist_deadline_ = now + rto_;
  }
  if (persist_active_ || !outstanding) {
    rto_deadline_.reset();
  } else if (!rto_deadline_) {
    rto_deadline_ = now + rto_;
  }
}

std::optional<time_point> endpoint::next_deadline() const {
  std::optional<time_point> best;
  for (const auto& d : {rto_deadline_, persist_deadline_, time_wait_deadline_, syn_deadline_}) {
    if (d && (!best || *d < *best)) best = d;
  }
  return best;
}

}  // namespace netpen::tcp
