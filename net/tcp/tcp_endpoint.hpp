// The relay's TCP endpoint toward the child: a sans-I/O state machine in the
// style of smoltcp's socket. Segments go in (on_segment), segments come out
// (poll), time is passed in, and next_deadline() says when to call poll
// again. It never touches a socket, a clock or a timer itself.
//
// Roles. Outbound flows: the child is the active opener; this endpoint is
// the passive side that impersonates the remote server. It is created from
// the child's SYN, stays silent (absorbing SYN retransmissions) until the
// relay's host connect finishes, then accept() answers SYN-ACK or abort()
// answers RST. Published ports (--publish): the endpoint is the active
// opener (the active_open constructor, tcp_active_open.cpp) and connects to
// a server in the child: SYN with our options, the child's SYN-ACK, our ACK.
// A RST answering the SYN, or refuse() (an ICMP error for it), closes it as
// refused; unanswered SYNs are retransmitted max_syn_retransmissions times,
// then it closes as timed out. Neither sends a RST. A simultaneous open (a
// bare SYN from the child) is not supported and ignored.
//
// Lifecycle (RFC 9293 names):
//   syn_sent              active open: our SYN sent, waiting for the SYN-ACK
//   syn_received_pending  created from SYN; host connect in progress; no reply yet
//   syn_received          SYN-ACK sent, waiting for the child's ACK
//   established           data both ways
//   close_wait            child sent FIN (child->us done), we may still send
//   fin_wait_1/2, closing we sent FIN (tx_close) ...
//   last_ack              both FINs sent, waiting for our FIN's ACK
//   time_wait             both directions closed; kept briefly to re-ACK a retransmitted FIN
//   closed                finished or reset (see was_reset)
//
// Refinements (implementation in tcp_endpoint.cpp, tcp_receive.cpp, tcp_send.cpp):
// - syn_received starts at accept(); its timer is syn_received_timeout
//   (then a RST, closed, was_reset). abort() closes at once but the RST is
//   emitted by the next poll(), so poll once more after it. No RST in time_wait.
// - We enter fin_wait_1 / last_ack when our FIN is actually sent (after
//   all data queued before tx_close()), not when tx_close() is called.
// - Retransmission is go-back-N from SND.UNA; the first segment after an
//   RTO goes out even into a zero window. max_retransmissions retransmissions
//   are allowed; the next timeout emits RST and closes. Three duplicate ACKs
//   resend one segment (fast retransmit).
// - Zero window: persist timer, 1-byte probes at SND.UNA with exponential
//   backoff (capped at rto_max). Probes the child answers never exhaust;
//   max_retransmissions unanswered probes in a row reset like an RTO.
// - ACKs are only ever sent by poll(): one per poll for newly accepted data
//   (or piggybacked on data), one per out-of-order segment (duplicate ACK).
// - next_deadline() covers timers only; call poll() after any other call.
//
// Buffers: rx holds in-order child data not yet consumed by the relay (the
// window we advertise is its free space); tx holds data from the host not
// yet acknowledged by the child (unsent + in flight). Both are fixed-size
// rings: the relay's reads from the host socket are bounded by tx_free(),
// so the host socket's buffers provide backpressure. Out-of-order segments
// are not queued: they get a duplicate ACK and the child retransmits (the
// tap link is lossless, so this only happens after our own drops).
#pragma once
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "net/packet/frame.hpp"
#include "net/tcp/byte_ring.hpp"
#include "net/tcp/rtt_estimator.hpp"

namespace netpen::tcp {

using clock = std::chrono::steady_clock;
using time_point = clock::time_point;
using duration = clock::duration;

enum class state {
  syn_sent,
  syn_received_pending,
  syn_received,
  established,
  close_wait,
  fin_wait_1,
  fin_wait_2,
  closing,
  last_ack,
  time_wait,
  closed,
};

const char* to_string(state s);

// A segment from the child, already parsed (see packet::parse_frame).
struct segment_in {
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint8_t flags = 0;        // packet::tcp_flag bits
  std::uint16_t window = 0;      // raw field (scaled by the child's wscale after SYN)
  std::optional<std::uint16_t> mss;
  std::optional<std::uint8_t> wscale;
  std::span<const std::byte> payload;
};

// A segment for the child. Payload spans point into the endpoint's tx ring
// and are valid only until the next call on the endpoint.
struct segment_out {
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint8_t flags = 0;
  std::uint16_t window = 0;      // raw field (already scaled down by our wscale)
  std::optional<std::uint16_t> mss;
  std::optional<std::uint8_t> wscale;
  std::array<std::span<const std::byte>, 2> payload{};
  std::size_t payload_size() const { return payload[0].size() + payload[1].size(); }
};

struct config {
  std::uint16_t mss = 65480;              // what we announce (tap MTU 65520 - 40)
  std::size_t rx_capacity = 4u << 20;     // bytes; also bounds our advertised window
  std::size_t tx_capacity = 4u << 20;     // the most the tx ring grows to
  std::size_t tx_initial_capacity = 64u << 10;  // what it starts with (tx_grow)
  duration rto_initial = std::chrono::milliseconds(200);
  duration rto_min = std::chrono::milliseconds(200);
  duration rto_max = std::chrono::seconds(60);
  int max_retransmissions = 12;           // then the endpoint resets (state closed, was_reset)
  duration time_wait = std::chrono::seconds(2);
  duration syn_received_timeout = std::chrono::seconds(75);
  int max_syn_retransmissions = 4;        // active open: then it gives up (timed_out)
};

namespace detail {
constexpr std::uint8_t max_wscale = 14;
// Smallest shift that makes the whole rx capacity expressible in 16 bits.
std::uint8_t wscale_for(std::size_t capacity);
}  // namespace detail

// Tag for the active-open constructor.
struct active_open_t {
  explicit active_open_t() = default;
};
inline constexpr active_open_t active_open{};

// Where in-order data from the child may go straight away, before (instead
// of) being copied into the rx ring: the relay's host socket. take() gets
// the payload of an in-order segment when nothing is queued ahead of it and
// returns how many leading bytes it accepted (0..size); the rest is queued.
class rx_sink {
 public:
  virtual std::size_t take(std::span<const std::byte> payload) = 0;

 protected:
  ~rx_sink() = default;
};

class endpoint {
 public:
  // Creates the endpoint from the child's SYN. `isn` is our initial sequence
  // number (the relay picks it randomly). Precondition: syn has SYN and not ACK.
  endpoint(const segment_in& syn, std::uint32_t isn, const config& cfg, time_point now);
  // Creates an actively opening endpoint (state syn_sent): the next poll()
  // emits our SYN (MSS and window scale offered) with sequence `isn`.
  endpoint(active_open_t, std::uint32_t isn, const config& cfg, time_point now);
  // Active open only: an ICMP error (port or host unreachable) answered our
  // SYN. Closes as refused, sends nothing. Ignored in any other state.
  void refuse();

  // Feeds one segment from the child. Never emits directly: call poll().
  // With a sink, in-order data is offered to it first (see rx_sink).
  void on_segment(const segment_in& seg, time_point now, rx_sink* sink = nullptr);

  // The host side is connected: answer the SYN with SYN-ACK (on next poll).
  void accept(time_point now);
  // The host side failed (refused, unreachable) or the flow is torn down:
  // emit a RST on next poll and go to closed. Idempotent.
  void abort();

  // --- data from the child (to be written to the host) --------------------
  // In-order bytes not yet consumed; two spans because rx is a ring.
  std::array<std::span<const std::byte>, 2> rx_data() const;
  std::size_t rx_size() const;
  // Marks n bytes consumed; may schedule a window update.
  void rx_consume(std::size_t n);
  // True once the child's FIN has arrived and all data before it was consumed.
  bool rx_finished() const;

  // --- data from the host (to be sent to the child) -----------------------
  std::size_t tx_free() const;
  // Free space of the tx ring as up to two writable spans (for scatter reads
  // from the host socket straight into the ring); follow with tx_commit.
  std::array<std::span<std::byte>, 2> tx_free_spans();
  void tx_commit(std::size_t n);
  // Copying convenience: appends up to tx_free() bytes, returns how many.
  std::size_t tx_write(std::span<const std::byte> data);
  // No more data from the host: send FIN after what is queued.
  void tx_close();
  // All tx data (and our FIN, if closed) acknowledged by the child.
  bool tx_drained() const;

  // --- memory ---------------------------------------------------------------
  // Whether both rings are empty and at least one holds storage.
  bool idle_with_buffers() const;
  // Whether the tx ring holds storage now (tx_free_spans() allocates it).
  bool tx_has_storage() const { return tx_.allocated(); }
  bool rx_has_storage() const { return rx_.allocated(); }
  // Doubles the tx ring (up to tx_capacity), keeping its contents; false
  // when it is at its largest. Spans handed out earlier become invalid, so
  // only call it while no read into the ring is pending. A connection that
  // moves little data never holds more than tx_initial_capacity.
  bool tx_grow();
  // Grows the tx ring to tx_capacity at once (for a reader that always has
  // a read pending, such as TLS).
  void tx_grow_to_max();
  // Gives the storage of empty rings back (an idle connection then holds no
  // buffer memory); spans handed out earlier must not be used afterwards.
  void release_buffers();

  // --- output and time -----------------------------------------------------
  // Emits every segment due now: SYN-ACK, data within the child's window
  // (respecting its MSS), pure ACKs / window updates, FIN, RST, zero-window
  // probes, and retransmissions whose timer expired.
  void poll(time_point now, const std::function<void(const segment_out&)>& emit);
  // When poll() must next be called even if nothing else happens.
  std::optional<time_point> next_deadline() const;

  state current_state() const { return state_; }
  bool is_closed() const { return state_ == state::closed; }
  // When the connection finished normally: the moment both directions had
  // sent their FIN (ours sent, the child's received; entering closing,
  // last_ack or time_wait). What follows (our FIN's ACK, time_wait) is
  // bookkeeping, so this is the connection's real end for its events.
  // nullopt before that, and for a connection that was reset first.
  std::optional<time_point> finished_at() const { return finished_at_; }
  bool was_reset() const { return reset_; }          // by the child, by abort, or by retransmission give-up
  bool reset_by_peer() const { return reset_by_peer_; }
  // Active open: the SYN was answered by RST (or refuse()), or went unanswered.
  bool was_refused() const { return refused_; }
  bool timed_out() const { return timed_out_; }

  // Negotiated values, for logs and tests.
  std::uint16_t peer_mss() const { return peer_mss_; }
  std::optional<std::uint8_t> peer_wscale() const { return peer_wscale_; }
  std::uint8_t our_wscale() const { return our_wscale_; }
  std::size_t peer_window() const;   // bytes, scaled
  std::size_t bytes_in_flight() const;
  duration current_rto() const { return rto_; }

 private:
  // --- helpers (tcp_endpoint.cpp, tcp_receive.cpp, tcp_send.cpp) ---
  bool synchronized() const;
  std::size_t rx_window() const;               // bytes we can accept now
  std::uint16_t window_field(bool syn) const;  // what goes in the window field
  std::uint32_t data_end() const;              // seq after the last queued tx byte
  std::uint32_t fin_seq() const { return data_end(); }
  bool fin_acked() const;
  std::size_t eff_mss() const;
  void on_synchronized_segment(const segment_in& seg, time_point now, rx_sink* sink);
  bool acceptable(const segment_in& seg) const;
  bool process_ack(const segment_in& seg, time_point now);
  void process_data(const segment_in& seg, time_point now, rx_sink* sink);
  void enter_time_wait(time_point now);
  void note_finished(time_point now) {
    if (!finished_at_) finished_at_ = now;
  }
  void fail(bool by_peer);
  void queue_reset(std::uint32_t seq, std::optional<std::uint32_t> ack);
  void run_timers(time_point now);
  void on_rto(time_point now);
  void on_persist(time_point now, const std::function<void(const segment_out&)>& emit);
  void send_data(time_point now, const std::function<void(const segment_out&)>& emit);
  void send_segment(std::uint32_t seq, std::size_t len, std::uint8_t flags,
                    const std::function<void(const segment_out&)>& emit);
  void update_timers(time_point now);
  segment_out make_segment(std::uint32_t seq, std::uint8_t flags);
  // Active open (tcp_active_open.cpp).
  void on_syn_sent_segment(const segment_in& seg, time_point now);
  void emit_syn(time_point now, const std::function<void(const segment_out&)>& emit);
  void on_syn_rto();

  config cfg_;
  state state_ = state::syn_received_pending;
  bool reset_ = false;
  bool reset_by_peer_ = false;
  bool refused_ = false;
  bool timed_out_ = false;
  std::uint16_t peer_mss_ = 536;
  std::optional<std::uint8_t> peer_wscale_;
  std::uint8_t our_wscale_ = 0;
  duration rto_{};
  rtt_estimator rtt_;
  byte_ring rx_;
  byte_ring tx_;

  // Receive side.
  std::uint32_t irs_ = 0;
  std::uint32_t rcv_nxt_ = 0;
  std::uint32_t rcv_adv_edge_ = 0;   // right edge of the window we last advertised
  bool rx_fin_ = false;

  // Send side. tx_ holds bytes from tx_base_ on (unacked data + unsent data).
  std::uint32_t iss_ = 0;
  std::uint32_t snd_una_ = 0;
  std::uint32_t snd_nxt_ = 0;        // next to send (moves back on go-back-N)
  std::uint32_t snd_max_ = 0;        // highest ever sent + 1
  std::uint32_t tx_base_ = 0;
  std::size_t snd_wnd_ = 0;          // peer window in bytes
  std::uint32_t snd_wl1_ = 0, snd_wl2_ = 0;
  bool tx_closed_ = false;

  // Output scheduling.
  bool syn_pending_ = false;         // active open: a SYN is due
  bool synack_pending_ = false;
  bool synack_retransmit_ = false;   // the next SYN-ACK is a retransmission (Karn)
  bool ack_pending_ = false;
  int dup_acks_to_send_ = 0;         // immediate ACKs for out-of-order segments
  bool fast_rtx_pending_ = false;
  bool force_one_ = false;           // RTO fired: send one segment even into a zero window
  std::optional<segment_out> rst_out_;

  // Timers and retransmission.
  std::optional<time_point> rto_deadline_;
  std::optional<time_point> persist_deadline_;
  std::optional<time_point> time_wait_deadline_;
  std::optional<time_point> syn_deadline_;
  std::optional<time_point> finished_at_;  // see finished_at()
  bool persist_active_ = false;
  int persist_backoff_ = 0;
  int probes_unanswered_ = 0;
  int retries_ = 0;                  // consecutive RTO expiries
  int dup_acks_ = 0;                 // duplicate ACKs received in a row
  bool rtt_active_ = false;          // timing one segment (Karn: never a retransmitted one)
  std::uint32_t rtt_seq_ = 0;        // an ACK at or beyond this ends the measurement
  time_point rtt_start_{};
};

}  // namespace netpen::tcp
