// The TCP endpoint's active open (RFC 9293 section 3.10.7.3, SYN-SENT), used
// for published ports: the constructor, our SYN and its retransmission, the
// SYN-ACK that establishes the connection, a RST (or an ICMP error passed in
// by refuse()) that refuses it. See tcp_endpoint.hpp for the roles.
#include <algorithm>

#include "net/tcp/seq.hpp"
#include "net/tcp/tcp_endpoint.hpp"

namespace netpen::tcp {

namespace flag = packet::tcp_flag;

endpoint::endpoint(active_open_t, std::uint32_t isn, const config& cfg, time_point)
    : cfg_(cfg),
      state_(state::syn_sent),
      rtt_(cfg.rto_initial, cfg.rto_min, cfg.rto_max),
      rx_(cfg.rx_capacity),
      tx_(std::min(cfg.tx_initial_capacity, cfg.tx_capacity)) {
  rto_ = rtt_.rto();
  our_wscale_ = detail::wscale_for(cfg_.rx_capacity);  // offered; dropped if the peer does not answer it
  iss_ = isn;
  snd_una_ = snd_nxt_ = snd_max_ = iss_;
  tx_base_ = iss_ + 1;
  syn_pending_ = true;
}

void endpoint::refuse() {
  if (state_ != state::syn_sent) return;
  refused_ = true;
  fail(true);
}

void endpoint::on_syn_sent_segment(const segment_in& seg, time_point now) {
  const bool rst = (seg.flags & flag::rst) != 0;
  const bool syn = (seg.flags & flag::syn) != 0;
  const bool ack = (seg.flags & flag::ack) != 0;
  const bool ack_ok = ack && seq::gt(seg.ack, iss_) && seq::le(seg.ack, snd_max_);
  if (ack && !ack_ok) {
    if (!rst) queue_reset(seg.ack, std::nullopt);  // <SEQ=SEG.ACK><CTL=RST>
    return;
  }
  if (rst) {
    if (ack_ok) {  // a RST without an acceptable ACK is ignored
      refused_ = true;
      fail(true);
    }
    return;
  }
  if (!syn || !ack_ok) return;  // a bare SYN (simultaneous open) is not supported
  irs_ = seg.seq;
  rcv_nxt_ = irs_ + 1;
  rcv_adv_edge_ = rcv_nxt_;
  if (seg.mss && *seg.mss != 0) peer_mss_ = *seg.mss;
  if (seg.wscale) {
    peer_wscale_ = std::min(*seg.wscale, detail::max_wscale);
  } else {
    our_wscale_ = 0;  // scaling needs both sides' option
  }
  snd_una_ = seg.ack;
  if (seq::lt(snd_nxt_, snd_una_)) snd_nxt_ = snd_una_;
  snd_wnd_ = seg.window;  // a SYN's window is never scaled (RFC 7323)
  snd_wl1_ = seg.seq;
  snd_wl2_ = seg.ack;
  if (rtt_active_ && seq::ge(seg.ack, rtt_seq_)) rtt_.sample(now - rtt_start_);
  rtt_active_ = false;
  rto_ = rtt_.rto();
  retries_ = 0;
  rto_deadline_.reset();
  state_ = state::established;
  ack_pending_ = true;  // the handshake's third segment
}

void endpoint::emit_syn(time_point now, const std::function<void(const segment_out&)>& emit) {
  if (!syn_pending_) return;
  syn_pending_ = false;
  segment_out out;
  out.seq = iss_;
  out.flags = flag::syn;
  out.window = window_field(true);
  out.mss = cfg_.mss;
  out.wscale = our_wscale_;
  if (!rtt_active_ && retries_ == 0) {
    rtt_active_ = true;
    rtt_seq_ = iss_ + 1;
    rtt_start_ = now;
  }
  snd_nxt_ = iss_ + 1;
  snd_max_ = seq::max(snd_max_, snd_nxt_);
  emit(out);
}

// Our SYN's retransmission timer fired: send it again, or give up.
void endpoint::on_syn_rto() {
  if (++retries_ > cfg_.max_syn_retransmissions) {
    timed_out_ = true;
    fail(false);
    return;
  }
  rtt_active_ = false;  // Karn
  syn_pending_ = true;
}

}  // namespace netpen::tcp
