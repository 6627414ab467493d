// One relayed TCP connection: the child's side is a tcp::endpoint (sans-I/O),
// the far side a host socket (or the DNS forwarder's local TCP service).
//
// Theory of operation. Everything a flow does runs on its own strand.
//   1. Created by the engine from the child's SYN; the endpoint stays silent.
//   2. connect(): the host socket connects first (bounded by connect_timeout),
//      with the SYN's TTL when the child lowered it (traceroute -T). With an
//      upstream proxy it connects to the proxy instead and completes the
//      proxy handshake (TLS, CONNECT or SOCKS5, asking for the name the
//      tree looked up when there is one) within the same bound; a failure
//      there is an RST to the child and a proxy_failed event.
//      Success -> endpoint.accept() -> SYN-ACK. An ICMP error for the
//      connect (unreachable, a router's Time Exceeded) goes to the child as
//      the same ICMP error from the hop that sent it; any other failure or a
//      forbidden destination -> endpoint.abort() -> RST, at once.
//   3. Three parts share the strand until the endpoint closes (only the
//      first is always a coroutine; the others run when there is work for
//      them: tcp_flow_lazy.cpp):
//        host_to_child  reads the host socket straight into the endpoint's tx
//                       ring, only while it has room (the host socket's
//                       receive buffer is the backpressure toward the remote),
//                       and only once the socket is readable (no buffer is
//                       held while waiting); the ring starts at 64 KiB and
//                       doubles (up to 4 MiB) whenever it is full;
//        child_to_host  writes the endpoint's rx ring to the host socket when
//                       the socket did not take it at once (on_segment
//                       writes first); the window we advertise is the
//                       ring's free space, so a slow remote closes the
//                       child's window;
//        timers         a timer callback: calls poll() at the endpoint's
//                       next deadline, and frees the rings' storage once
//                       they stayed empty for 2 s (an idle flow holds no
//                       buffer memory).
//      Segments from the child arrive via deliver() (posted by the engine).
//      Half-close: the child's FIN becomes shutdown(SHUT_WR) on the host
//      socket after the data before it; EOF from the host becomes our FIN.
//   4. A reset on either side resets the other (RST to the child; SO_LINGER 0
//      close toward the remote). Once the connection is over (both FINs
//      exchanged: time_wait; or closed) the flow reports its close, with
//      the moment of the last FIN as its end (tcp::endpoint::finished_at),
//      not 2 s later when time_wait ends; when the endpoint is closed it
//      calls its owner's `on_done`, which drops it from the flow table. A
//      run that ends while a flow is in time_wait, last_ack or closing does
//      not turn its normal close into "shutdown".
// Judged by claim (tcp_flow_claim.cpp; docs/relay.md "The deferred
// connect"): when the policy judges claimed names (flow_context::
// judged_by_claim), step 2 waits. The flow answers the SYN first (after the
// owner lookup), keeps the child's bytes in the endpoint's rx ring without
// consuming them (the window we advertise closes if the ring fills) and
// feeds them to a stream_sniffer until it is done, the first byte has not
// come within 250 ms, or 2 s have passed. Then judge_claim decides: denied
// -> denied event and RST, nothing ever connects; allowed -> the record
// carries verdict and claim, the host socket (or the proxy) connects, a
// failure there is an RST (the SYN was answered: no ICMP error any more),
// flow_open is published, and the queued bytes and a FIN the child sent
// meanwhile are relayed as in step 3. A child's RST during the wait ends
// the flow without any connect. The timers run from the SYN-ACK.
// Visibility: while observing, every other outbound flow feeds the child's
// first bytes (as take(), write_now() and child_to_host() pass them on) to
// a stream_sniffer until it is done; the claim goes into the record, so
// flow_close carries it. Bounded by the sniffer's max_bytes, free after.
// Inbound (--publish, tcp_flow_inbound.cpp): the flow is made from a host
// client the publish server accepted; the endpoint opens actively toward
// the server in the child (SYN from the gateway). Established, the flow
// reports an inbound flow_open and relays as in step 3. Refused
// (RST) or unanswered, it hands the client socket back (`refused`) without
// reporting anything, for the publish server's next route.
// The flow knows the relay only through flow_context (flow_context.hpp).
#pragma once
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "net/host_io/host_stream.hpp"
#include "net/relay/async_event.hpp"
#include "net/relay/egress_observer.hpp"
#include "net/relay/flow_context.hpp"
#include "net/relay/flow_key.hpp"
#include "net/relay/flow_record.hpp"
#include "net/relay/packet_pool.hpp"
#include "net/relay/proxy_dial.hpp"
#include "net/sniff/stream_sniffer.hpp"
#include "net/tcp/tcp_endpoint.hpp"

namespace netpen::relay {

class tcp_flow : public std::enable_shared_from_this<tcp_flow>,
                 private host_io::byte_observer,
                 private tcp::rx_sink,
                 private proxy_dial_hooks {
 public:
  // Called once the flow has ended, from its strand.
  using done_fn = std::function<void(const flow_key&, std::shared_ptr<tcp_flow>)>;
  // syn_packet: the child's SYN as an IP packet (quoted in ICMP errors);
  // syn_ttl: its TTL, copied onto the host socket when below the default.
  tcp_flow(flow_context& ctx, asio::strand<asio::any_io_executor> strand, const flow_key& key,
           const tcp::segment_in& syn, std::span<const std::byte> syn_packet, std::uint8_t syn_ttl,
           std::uint32_t isn, const tcp::config& cfg, done_fn on_done);

  // Inbound: `key` is the child's view (src: the server's address and PORT,
  // dst: the gateway and our port); `client` the accepted host socket.
  using refused_fn = std::function<void(asio::ip::tcp::socket client)>;
  tcp_flow(flow_context& ctx, asio::strand<asio::any_io_executor> strand, const flow_key& key,
           asio::ip::tcp::socket client, std::string client_text, std::uint32_t isn, const tcp::config& cfg,
           done_fn on_done, refused_fn refused);

  // Starts the flow's coroutine. Call once, right after construction.
  void start();
  // Hands a segment of this flow to the flow's strand (from the engine).
  // Its answer (the ACK, more data) waits for end_of_batch(), which the
  // engine calls once after the batch of frames it read from the tap, so a
  // batch of segments gets one ACK.
  void deliver(packet_buffer buf, const tcp::segment_in& seg);
  void end_of_batch();
  // Set by the engine while the flow is in its list for end_of_batch()
  // (dispatch strand only).
  bool batch_pending = false;
  // Tears the flow down (engine shutdown): RST to the child, close the socket.
  void shutdown();
  // Inbound: the child answered our SYN with an ICMP error; the open is
  // refused at once (the client goes back for the next route).
  void refuse_inbound_open();
  // True once the flow has ended and may be replaced by a new SYN.
  bool finished() const { return finished_.load(std::memory_order_acquire); }

 private:
  asio::awaitable<void> run();
  // The three coroutines, once both sides are connected.
  asio::awaitable<void> relay_data();
  // Inbound (tcp_flow_inbound.cpp): the active open, then relay_data().
  asio::awaitable<void> run_inbound();
  asio::awaitable<bool> open_inbound();
  // denied: the policy refused it (an RST, and a denied event instead of
  // flow open/close events).
  enum class connect_result { connected, reset, icmp_sent, denied };
  asio::awaitable<connect_result> connect();
  // The remote side of an allowed flow: the proxy when set, else the
  // destination itself; connect_socket() is the direct connect (bounded).
  asio::awaitable<connect_result> connect_remote();
  asio::awaitable<connect_result> connect_socket(asio::ip::tcp::endpoint target, bool to_remote);
  asio::awaitable<connect_result> connect_via_proxy();
  // Judged by claim (tcp_flow_claim.cpp): SYN-ACK, sniff, decide, connect.
  bool judged_by_claim() const;
  asio::awaitable<void> run_claimed();
  asio::awaitable<void> claim_then_relay();
  asio::awaitable<void> wait_for_claim();
  // Not connected after the handshake: the record's end, flow_open, RST.
  void end_unconnected(std::string_view end);
  // The sniffer sees the child's bytes from absolute offset `at` (bytes
  // already seen are skipped); once done, the claim goes into the record.
  void sniff(std::uint64_t at, std::span<const std::byte> bytes);
  void sniff_queued();  // the rx ring's unconsumed bytes
  void sniff_consumed(std::size_t n);  // the first n bytes of the rx ring, before rx_consume
  asio::awaitable<connect_result> connect_host_port();  // tcp_flow_host_port.cpp
  void report_proxy_failure(const std::string& reason, const std::optional<std::string>& name);
  connect_result report_connect_failure(const asio::error_code& ec);
  // The early bytes the proxy sent with its answer go to the child first.
  void deliver_early_bytes();
  void open_with_ttl(const asio::ip::tcp::endpoint& target);
  void arm_connect_limit(asio::steady_timer& limit);
  asio::awaitable<void> host_to_child();
  asio::awaitable<void> child_to_host();
  // child_to_host runs only while there is something for it (tcp_flow_lazy.cpp).
  void start_child_to_host_if_needed();
  // Waits until the endpoint is closed and child_to_host has returned.
  asio::awaitable<void> wait_until_over();
  // The endpoint's deadlines and the idle rings' release, by a plain timer
  // callback (no coroutine): start_timers() once, then flush() re-arms it.
  void start_timers();
  void arm_timer();
  void on_timer(const asio::error_code& ec);
  // The tx ring's free space as buffers for a host read (allocates it).
  std::array<asio::mutable_buffer, 2> tx_buffers();
  // The rx ring's queued bytes as buffers for a host write.
  std::array<asio::const_buffer, 2> rx_buffers() const;
  // The host socket as the capture's egress points see it (tcp_flow_egress.cpp);
  // each does nothing without an egress observer.
  void egress_opening(const asio::ip::tcp::endpoint& target);
  void egress_connected();
  void egress_connect_failed(const asio::error_code& ec);
  void egress_fin(bool sent);
  // The proxy dial's hooks: the egress capture, and the child giving up.
  void opening(const asio::ip::tcp::endpoint& proxy) override { egress_opening(proxy); }
  void connect_failed(const asio::error_code& ec) override { egress_connect_failed(ec); }
  void connected() override { egress_connected(); }
  bool abandoned() const override { return ep_.is_closed(); }
  void egress_closed();
  // Publishes flow_close once: as soon as an announced connection is over
  // (time_wait or closed: time_wait only re-ACKs a retransmitted FIN), with
  // the time both FINs were exchanged as its end; else when the flow ends.
  void report_close();
  void bytes(bool sent, std::span<const asio::const_buffer> buffers, std::size_t n) override;
  void on_segment(const tcp::segment_in& seg);
  // The endpoint's rx_sink: the child's in-order data straight from its
  // frame to the host socket, when the socket takes it now.
  std::size_t take(std::span<const std::byte> payload) override;
  void write_now();
  bool can_write_now() const;
  void flush();
  void after_change();

  flow_context& ctx_;
  tap_writer& tap_;
  done_fn on_done_;
  asio::strand<asio::any_io_executor> strand_;
  flow_key key_;
  std::vector<std::byte> syn_packet_;
  std::uint8_t syn_ttl_;
  tcp::endpoint ep_;
  host_io::host_stream stream_;
  std::vector<std::byte> early_;  // tunnel bytes the proxy sent with its answer
  flow_record record_;
  asio::steady_timer deadline_timer_;
  tcp::time_point armed_deadline_ = tcp::time_point::max();  // the endpoint's deadline flush() last saw
  tcp::time_point timer_expiry_ = tcp::time_point::max();    // when arm_timer's pending wait fires (max: none)
  std::optional<tcp::time_point> idle_since_;                // rings empty (but stored) since
  async_event changed_;
  bool connected_ = false;
  bool host_closed_ = false;
  bool close_reported_ = false;  // flow_close went out (report_close)
  bool writing_ = false;       // child_to_host has a write pending
  bool relaying_ = false;      // both sides connected: child_to_host may start
  bool c2h_running_ = false;   // child_to_host was spawned and has not returned
  bool c2h_done_ = false;      // the child's side is done (shut down or failed)
  bool timers_on_ = false;     // flush() re-arms the deadline timer
  bool host_reset_ = false;    // the remote reset the connection
  bool egress_open_ = false;   // conn_ was reported opened and not yet closed
  host_conn conn_;
  std::atomic<bool> finished_{false};
  bool inbound_ = false;
  bool syn_answered_ = false;  // SYN-ACK sent before the connect (judged by claim)
  std::optional<sniff::stream_sniffer> sniffer_;  // until done (observing or judged by claim)
  std::uint64_t sniffed_ = 0;  // how many of the child's first bytes the sniffer saw
  refused_fn refused_;  // inbound: gets the client back when the server refused
};

}  // namespace netpen::relay
