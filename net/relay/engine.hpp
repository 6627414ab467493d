// The rootless engine: owns the tap and the flow tables. It reads the
// child's frames from the tap, parses each once, and dispatches them: TCP to
// per-flow coroutines (tcp_flow), UDP port 53 (any address) to the DNS
// forwarder, other UDP to udp_flow, echo requests to icmp_echo_flow,
// ARP/NDP for the gateway to the neighbour responder. Everything else is
// counted and dropped. A segment for no connection gets the RFC 9293 reset
// (tcp/closed_reset.hpp). While the tree sends faster than the relay
// forwards, a datagram flow's excess is dropped here rather than in the
// tap's ring, so other flows keep theirs (datagram_shedding.hpp).
//
// New datagram flows are admitted here (engine_datagrams.cpp): --proxy-only
// and the policy may refuse them (ICMP administratively prohibited from the
// gateway, one `denied` event), and under --interactive their packets are
// dropped while the question is out. A new TCP flow is judged by the flow
// itself, before it connects. Either way the verdict travels in the flow's
// record. Flows know the rest of the relay only through flow_context
// (flow_services implements it).
//
// Published ports (engine_inbound.cpp): the publish server hands over host
// clients; a TCP one becomes an inbound tcp_flow (the endpoint's active open
// from the gateway) in the TCP table under the child's view of its tuple, so
// the child's answers reach it like any flow's; a UDP client's datagrams go
// to the child from the gateway and the child's replies to that tuple go
// back to the publish server.
//
// Threads. The tap reader and the tables live on one "dispatch" strand;
// every flow has its own strand. Frames are written back to the tap from
// any strand (tap_writer: one writev per frame, or queued in the tap's
// io_uring and flushed once per turn of the event loop). stop_flows() cancels the
// tap reader, shuts every flow down and waits (bounded) for them to end.
#pragma once
#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/strand.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "net/events/event.hpp"
#include "net/relay/datagram_shedding.hpp"
#include "net/relay/flow_record.hpp"
#include "net/relay/flow_table.hpp"
#include "net/relay/frame_observer.hpp"
#include "net/relay/inbound.hpp"
#include "net/relay/packet_pool.hpp"
#include "net/relay/relay_sizes.hpp"
#include "net/relay/udp_idle_expiry.hpp"

namespace netpen::packet {
struct frame;
}

namespace netpen::relay {

class host_port_relay;

class flow_services;
class tcp_flow;
class datagram_flow;
class udp_flow;
class icmp_echo_flow;

struct engine_options {
  udp_idle_expiry udp;  // datagram flows' expiry and the tables' size bound
  std::chrono::milliseconds shutdown_grace{2000};
  // The capture point at the tap (null: no capture). Must outlive the engine.
  frame_observer* capture = nullptr;
};

struct engine_stats {
  std::uint64_t frames_in = 0, frames_malformed = 0, frames_ignored = 0;
  std::uint64_t tcp_flows = 0, tcp_unknown_rst = 0, dns_udp_queries = 0, udp_flows = 0, udp_evicted = 0,
                udp_dropped = 0, datagrams_shed = 0;
  std::uint64_t frames_out = 0, frames_out_dropped = 0;
};

class engine {
 public:
  // `pool` must outlive the io_context (pending handlers hold its buffers).
  engine(asio::io_context& ctx, flow_services& services, packet_pool& pool, engine_options opts);
  ~engine();
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  // Takes ownership of the tap fd and starts reading it (threads running;
  // one_thread: the io_context runs on one thread only). Sets up the tap's
  // io_uring (tap_ring.hpp) when it can, on the calling thread.
  void attach_tap(int tap_fd, bool one_thread = false);
  // Stops reading, shuts every flow down and waits for them (bounded by
  // shutdown_grace); then closes the tap.
  void stop_flows();
  engine_stats stats() const;
  // Its part of the stats line (relay_sizes.hpp), read on the dispatch
  // strand; `done` runs there.
  void sizes(std::function<void(relay_sizes)> done);
  // --host-port: UDP to a listed gateway port goes to this relay (set
  // before attach_tap; null: none).
  void route_host_ports(host_port_relay* relay) { host_ports_ = relay; }

  // --publish: the child's address route (sandbox_v4/v6) of inbound_connector.
  void open_inbound_tcp(asio::ip::tcp::socket client, const inbound_request& req,
                        inbound_connector::refused_fn refused);
  // `refused` runs (on the io_context) when the child answers the flow's
  // datagrams with an ICMP Destination Unreachable.
  std::shared_ptr<inbound_datagrams> open_inbound_udp(const inbound_request& req, inbound_connector::reply_fn reply,
                                                      std::function<void()> refused);

 private:
  class inbound_udp_path;
  // A port of the gateway for a new inbound flow's tuple (dispatch strand).
  std::uint16_t next_inbound_port();
  bool answer_inbound_udp(const flow_key& key, const packet::frame& f);
  // An ICMP error from the child about an inbound flow's packet (a closed UDP
  // port, a rejected SYN): that flow is refused. True when it was one.
  bool refuse_inbound(const packet::frame& f);
  asio::awaitable<void> read_tap();
  asio::awaitable<void> read_tap_ring();
  asio::awaitable<asio::error_code> wait_for_tap(packet_buffer& buf);
  void end_batch();
  void handle_frame(packet_buffer buf);
  void handle_tcp(packet_buffer buf, const packet::frame& f);
  void start_tcp_flow(const flow_key& key, const packet::frame& f);
  void answer_unknown_segment(const flow_key& key, const packet::frame& f);
  bool answer_neighbor(const packet::frame& f, std::span<const std::byte> raw);
  void flow_started();
  void flow_ended();

  // engine_datagrams.cpp
  void handle_udp(packet_buffer buf, const packet::frame& f);
  void handle_dns_udp(const flow_key& key, const packet::frame& f);
  void handle_icmp(const packet::frame& f);
  bool shed(datagram_flow& flow);
  void make_room_for_udp_flow();
  // Whether a new datagram flow may start: nullopt when refused or held
  // (the packet is dropped), else the record carrying its verdict.
  std::optional<flow_record> admit_datagram(const flow_key& key, const packet::frame& f);
  bool refused_for_proxy(const flow_key& key, const packet::frame& f);
  bool refuse_datagram(const flow_key& key, const packet::frame& f);
  enum class unreachable { port, prohibited };
  // The ICMP destination unreachable the child gets for its datagram `f`.
  void send_unreachable(const flow_key& key, const packet::frame& f, unreachable why);
  void ask_for_datagram(const flow_key& key);
  // A flow's done callback: it is dropped from `table` on the dispatch strand.
  template <class Flow>
  auto done_for(flow_table<Flow>& table) {
    return [this, &table](const flow_key& key, auto flow) {
      table.forget_later(key, std::move(flow));
      flow_ended();
    };
  }

  asio::io_context& ctx_;
  flow_services& services_;
  engine_options opts_;
  host_port_relay* host_ports_ = nullptr;
  packet_pool& pool_;
  asio::strand<asio::any_io_executor> dispatch_;
  asio::posix::stream_descriptor tap_;
  std::atomic<bool> stopping_{false};
  bool one_thread_ = false;

  // dispatch strand only, from here on
  flow_table<tcp_flow> tcp_flows_;
  flow_table<udp_flow> udp_flows_;
  flow_table<icmp_echo_flow> icmp_flows_;
  std::vector<std::shared_ptr<tcp_flow>> batch_flows_;  // flows that got segments in the current tap batch
  datagram_shedding shedding_;  // a flooding datagram flow's share while the tap cannot keep up
  std::mt19937 isn_rng_;
  std::unordered_map<flow_key, bool, flow_key_hash> denied_;  // datagram denials said once
  // --interactive for datagrams: destinations with a question out (their
  // packets are dropped meanwhile), and flows an answer allowed while the
  // policy alone would still ask (consumed when the flow starts).
  std::unordered_set<std::string> asking_;
  std::unordered_map<flow_key, std::string, flow_key_hash> allowed_once_;  // an allowing answer's rule, for its flow
  // --publish UDP flows by the child's view of their tuple.
  struct inbound_udp_target {
    inbound_connector::reply_fn reply;
    std::function<void()> refused;
  };
  std::unordered_map<flow_key, inbound_udp_target, flow_key_hash> inbound_udp_;
  std::atomic<std::uint32_t> inbound_port_seq_{0};

  std::mutex live_mu_;
  std::condition_variable live_cv_;
  std::size_t live_flows_ = 0;

  std::atomic<std::uint64_t> frames_in_{0}, malformed_{0}, ignored_{0}, tcp_flows_total_{0}, udp_dropped_{0},
      unknown_rst_{0}, udp_flows_total_{0}, udp_evicted_{0}, shed_{0};
};

}  // namespace netpen::relay
