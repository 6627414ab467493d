// The TCP endpoint's segment input (RFC 9293 section 3.10.7): the handshake
// states, the acceptability test, RST/SYN handling, ACK processing (window
// update, freeing the tx ring, RTT samples, duplicate ACKs) and in-order
// data and FIN delivery into the rx ring.
#include <algorithm>

#include "net/tcp/seq.hpp"
#include "net/tcp/tcp_endpoint.hpp"

namespace netpen::tcp {

namespace flag = packet::tcp_flag;

void endpoint::on_segment(const segment_in& seg, time_point now, rx_sink* sink) {
  const bool rst = (seg.flags & flag::rst) != 0;
  const bool syn = (seg.flags & flag::syn) != 0;
  const bool ack = (seg.flags & flag::ack) != 0;
  switch (state_) {
    case state::closed:
      return;
    case state::syn_sent:
      on_syn_sent_segment(seg, now);
      return;
    case state::syn_received_pending:
      // Nothing sent yet: only the child giving up matters; SYN copies are absorbed.
      if (rst && seg.seq == rcv_nxt_) fail(true);
      return;
    case state::syn_received:
      if (rst) {
        if (acceptable(seg)) fail(true);
        return;
      }
      if (syn) {
        // The child did not get our SYN-ACK (or it crossed): send it again.
        if (!ack && seg.seq == irs_) {
          synack_pending_ = true;
          synack_retransmit_ = true;
        }
        return;
      }
      if (!ack) return;
      // The sequence number is checked first (RFC 9293 3.10.7.4): a segment
      // outside our window completes nothing. (Establishing on it and then
      // dropping it left SND.UNA at our SYN, and go-back-N resent from there.)
      if (!acceptable(seg)) return;
      if (!seq::gt(seg.ack, snd_una_) || !seq::le(seg.ack, snd_max_)) {
        queue_reset(seg.ack, std::nullopt);  // RFC 9293: <SEQ=SEG.ACK><CTL=RST>
        return;
      }
      state_ = state::established;
      syn_deadline_.reset();
      break;
    default:
      break;
  }
  on_synchronized_segment(seg, now, sink);
  if (state_ != state::closed) update_timers(now);
}

void endpoint::on_synchronized_segment(const segment_in& seg, time_point now, rx_sink* sink) {
  if (!acceptable(seg)) {
    // Old duplicates, keep-alives, retransmitted FINs, data beyond the
    // window: answer with an ACK. Never answer a RST.
    if ((seg.flags & flag::rst) == 0) ack_pending_ = true;
    return;
  }
  if ((seg.flags & flag::rst) != 0) {
    if (state_ == state::time_wait) {
      state_ = state::closed;
      time_wait_deadline_.reset();
    } else {
      fail(true);
    }
    return;
  }
  if ((seg.flags & flag::syn) != 0) {
    ack_pending_ = true;  // challenge ACK (RFC 5961 section 4)
    return;
  }
  if ((seg.flags & flag::ack) == 0) return;
  if (!process_ack(seg, now)) return;
  process_data(seg, now, sink);
}

// RFC 9293 section 3.10.7.4, first check. A zero window still accepts a
// segment starting exactly at RCV.NXT, so its ACK, RST and FIN are seen
// (its data is then trimmed away).
bool endpoint::acceptable(const segment_in& seg) const {
  std::size_t len = seg.payload.size();
  if ((seg.flags & flag::syn) != 0) ++len;
  if ((seg.flags & flag::fin) != 0) ++len;
  const std::size_t wnd = rx_window();
  if (wnd == 0) return seg.seq == rcv_nxt_;
  const std::uint32_t right = seq::add(rcv_nxt_, wnd);
  if (seq::in_range(seg.seq, rcv_nxt_, right)) return true;
  return len > 0 && seq::in_range(seq::add(seg.seq, len - 1), rcv_nxt_, right);
}

// Returns false when the segment must not be processed further.
bool endpoint::process_ack(const segment_in& seg, time_point now) {
  const std::uint32_t ack = seg.ack;
  if (seq::gt(ack, snd_max_)) {
    ack_pending_ = true;  // acknowledges something never sent
    return false;
  }
  if (seq::lt(ack, snd_una_)) return true;  // old duplicate ACK: ignore it, keep the data
  probes_unanswered_ = 0;

  const std::size_t window = static_cast<std::size_t>(seg.window)
                             << (peer_wscale_ ? *peer_wscale_ : 0);
  const bool has_text = !seg.payload.empty() || (seg.flags & flag::fin) != 0;
  if (ack == snd_una_) {
    // RFC 5681 duplicate ACK: nothing new, same window, data outstanding.
    if (!has_text && window == snd_wnd_ && snd_una_ != snd_max_ && !persist_active_) {
      if (++dup_acks_ == 3) {
        fast_rtx_pending_ = true;
        rtt_active_ = false;
      }
    }
  } else {
    dup_acks_ = 0;
    if (seq::ge(ack, tx_base_)) {
      std::size_t n = std::min(seq::span(ack, tx_base_), tx_.size());
      tx_.consume(n);
      tx_base_ = seq::add(tx_base_, n);
    }
    snd_una_ = ack;
    if (seq::lt(snd_nxt_, snd_una_)) snd_nxt_ = snd_una_;
    retries_ = 0;
    if (rtt_active_ && seq::ge(ack, rtt_seq_)) {
      rtt_.sample(now - rtt_start_);
      rtt_active_ = false;
    }
    rto_ = rtt_.rto();  // progress ends any backoff
    if (snd_una_ != snd_max_) {
      rto_deadline_ = now + rto_;
    } else {
      rto_deadline_.reset();
    }
  }

  // SND.WL1/WL2: only a newer segment may change the window.
  if (seq::lt(snd_wl1_, seg.seq) || (snd_wl1_ == seg.seq && seq::le(snd_wl2_, ack))) {
    snd_wnd_ = window;
    snd_wl1_ = seg.seq;
    snd_wl2_ = ack;
  }

  if (fin_acked()) {
    switch (state_) {
      case state::fin_wait_1: state_ = state::fin_wait_2; break;
      case state::closing: enter_time_wait(now); break;
      case state::last_ack:
        state_ = state::closed;
        rto_deadline_.reset();
        persist_deadline_.reset();
        return false;
      default: break;
    }
  }
  return true;
}

void endpoint::process_data(const segment_in& seg, time_point now, rx_sink* sink) {
  if (state_ != state::established && state_ != state::fin_wait_1 && state_ != state::fin_wait_2) {
    return;  // the child's FIN is in: anything acceptable here carries no new text
  }
  auto payload = seg.payload;
  bool fin = (seg.flags & flag::fin) != 0;
  if (payload.empty() && !fin) return;
  std::uint32_t s = seg.seq;
  if (seq::lt(s, rcv_nxt_)) {
    std::size_t skip = seq::span(rcv_nxt_, s);
    if (skip > payload.size()) {
      ack_pending_ = true;
      return;
    }
    payload = payload.subspan(skip);
    s = rcv_nxt_;
  }
  if (s != rcv_nxt_) {
    // Out of order: not queued; a duplicate ACK makes the child resend.
    if (dup_acks_to_send_ < 4) ++dup_acks_to_send_;
    return;
  }
  if (!payload.empty()) {
    // Nothing queued ahead: the sink may take it without a copy into rx.
    const std::size_t taken = sink != nullptr && rx_.empty() ? std::min(sink->take(payload), payload.size()) : 0;
    std::size_t n = taken + std::min(payload.size() - taken, rx_.free());
    if (n > taken) rx_.write(payload.subspan(taken, n - taken));
    rcv_nxt_ = seq::add(rcv_nxt_, n);
    ack_pending_ = true;
    if (n < payload.size()) fin = false;  // the FIN lies beyond our window
  }
  if (!fin) return;
  rcv_nxt_ = seq::add(rcv_nxt_, 1);
  rx_fin_ = true;
  ack_pending_ = true;
  switch (state_) {
    case state::established: state_ = state::close_wait; break;
    case state::fin_wait_1:
      state_ = state::closing;
      note_finished(now);
      break;
    case state::fin_wait_2: enter_time_wait(now); break;
    default: break;
  }
}

}  // namespace netpen::tcp
