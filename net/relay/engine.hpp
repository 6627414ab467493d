// The rootless relay engine: reads the child's frames from the tap, parses
// each once, and dispatches them: TCP to per-flow coroutines (tcp_flow), UDP
// port 53 (any address) to the DNS forwarder, other UDP to udp_flow, echo
// requests to icmp_echo_flow, ARP/NDP for the gateway to the neighbour
// responder. Everything else is counted and dropped.
//
// Threads and ownership. One io_context runs on a small thread pool (half
// the cores, at least one). The
// tap reader and the flow table live on one "dispatch" strand; every flow
// has its own strand. Frames are written back to the tap from any strand
// (one writev per frame). stop() closes the tap, resets every flow, waits
// (bounded) for all flow coroutines to finish, then joins the threads.
#pragma once
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/post.hpp>
#include <asio/strand.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <span>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "net/common/error.hpp"
#include "net/dns/forwarder.hpp"
#include "net/dns/name_index.hpp"
#include "net/dns/synthetic_names.hpp"
#include "net/events/event.hpp"
#include "net/netfilter/netfilter_socket.hpp"
#include "net/policy/approval.hpp"
#include "net/policy/policy.hpp"
#include "net/proxy/proxy_config.hpp"
#include "net/relay/egress_observer.hpp"
#include "net/relay/flow_key.hpp"
#include "net/relay/flow_record.hpp"
#include "net/relay/process_finder.hpp"
#include "net/relay/packet_pool.hpp"
#include "net/relay/socket_errors.hpp"
#include "net/relay/tap_writer.hpp"
#include "net/relay/udp_flow_policy.hpp"

namespace netpen::relay {

class tcp_flow;
class udp_flow;
class icmp_echo_flow;

struct engine_options {
  std::vector<dns::upstream_server> dns_upstreams;
  dns::hosts_table hosts_overlay;
  unsigned threads = 0;  // 0: NETPEN_THREADS, else half the cores (at least 1)
  std::chrono::milliseconds connect_timeout{30000};
  std::chrono::milliseconds shutdown_grace{2000};
  udp_flow_policy udp;
  // TCP leaves through this proxy when set (DNS to the forwarder excepted).
  std::optional<proxy::proxy_config> proxy;
  // Nothing but proxied TCP leaves: UDP and ping are denied, names are
  // answered synthetically. socks5h:// answers names synthetically too.
  bool proxy_only = false;
  events::sink on_event;  // called on one strand, one event at a time
  // Publish DNS and flow open/close events too (and find their processes);
  // without it only proxy failures and denials are published.
  bool observe = false;
  // The capture point at the tap (null: no capture). Must outlive the engine.
  frame_observer* capture = nullptr;
  // The capture's egress points: each flow's host socket and its bytes
  // (null: none). Must outlive the engine.
  egress_observer* egress = nullptr;
  // Allow/deny decisions for DNS questions and new flows (null: everything
  // may leave). Shared: the run reads it too.
  std::shared_ptr<policy::policy> policy;
  // --interactive: asked about destinations the policy leaves open (`ask`);
  // without one such destinations are denied. Must outlive the engine.
  policy::approver* approver = nullptr;
};

// The rootful backend's data path: the kernel forwards the tree's packets
// itself; the engine judges each new flow (the tree's netns queues its first
// packets to `queue`), learns flow ends from the tree's conntrack events,
// and answers DNS at the gateway addresses (engine_kernel.cpp).
struct kernel_path {
  netfilter::netlink_socket queue;        // NFQUEUE `queue_num` in the tree's netns
  std::uint16_t queue_num = 0;
  std::uint32_t deny_mark = 0;            // a verdict "repeat" with this mark makes the tree's table reject it
  netfilter::netlink_socket conntrack;    // conntrack events of the tree's netns (with byte counters)
  std::vector<asio::ip::address> gateways;  // the DNS forwarder listens here, UDP and TCP
  std::uint16_t dns_port = 53;
  // Proxy mode: the host's TPROXY rule sends the tree's TCP to this port on
  // the gateways, where the engine listens (IP_TRANSPARENT); 0: no proxy mode.
  std::uint16_t proxy_port = 0;
  // The gate's verdict cache in the tree's table: new flows to this
  // destination (address, protocol, port) skip the queue for `ttl`. Unset:
  // every new flow is queued.
  std::function<void(const flow_key& key, std::chrono::seconds ttl)> cache_allowed;
};

struct engine_stats {
  std::uint64_t frames_in = 0, frames_malformed = 0, frames_ignored = 0;
  std::uint64_t tcp_flows = 0, tcp_unknown_rst = 0, dns_udp_queries = 0, udp_flows = 0, udp_evicted = 0,
                udp_dropped = 0;
  std::uint64_t frames_out = 0, frames_out_dropped = 0;
};

class engine {
 public:
  explicit engine(engine_options opts);
  ~engine();
  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  // Starts the threads and the DNS forwarder; frames flow once attach_tap().
  result<void> start();
  // Takes ownership of the tap fd and starts reading it (after start()).
  void attach_tap(int tap_fd);
  // Or, for the rootful backend, serves the kernel data path (after start()).
  result<void> attach_kernel_path(kernel_path path);
  void stop();
  engine_stats stats() const;

  // For flows.
  tap_writer& writer() { return writer_; }
  asio::ip::tcp::endpoint dns_tcp_endpoint() const { return dns_tcp_endpoint_; }
  std::chrono::milliseconds connect_timeout() const { return opts_.connect_timeout; }
  void flow_finished(const flow_key& key, std::shared_ptr<tcp_flow> flow);
  void udp_flow_finished(const flow_key& key, std::shared_ptr<udp_flow> flow);
  void icmp_flow_finished(const flow_key& key, std::shared_ptr<icmp_echo_flow> flow);
  // The upstream proxy for TCP, and its TLS context (https:// only).
  const proxy::proxy_config* proxy() const { return opts_.proxy ? &*opts_.proxy : nullptr; }
  asio::ssl::context* proxy_tls() { return proxy_tls_.get(); }
  // The name the tree looked up for `a` (synthetic or from DNS answers).
  std::optional<std::string> name_for(const packet::ip_address& a) const;
  bool is_synthetic(const packet::ip_address& a) const;
  void emit(events::event e);
  // The sandbox's init: flows' processes are looked up among its tree.
  void set_tree(pid_t init_pid);
  bool observing() const { return opts_.observe; }
  egress_observer* egress() const { return opts_.egress; }
  // Completes once the owner lookup started at the flow's SYN has run (at
  // once when not observing): a TCP flow waits for it before its SYN-ACK,
  // while the child's process is certainly alive (blocked in connect()).
  asio::awaitable<void> owner_looked_up();
  // The policy's verdict on a new flow to key.dst when it is not a plain
  // allow (deny, or ask under --interactive); nullopt when it may go
  // (engine_policy.cpp). No side effects.
  std::optional<policy::decision> policy_denies(const flow_key& key) const;
  // The verdict on a new TCP flow (allow or deny), asking the user when the
  // policy says `ask` (engine_approval.cpp); runs on the flow's strand.
  asio::awaitable<policy::decision> judge(const flow_key& key);
  // The denied event for that decision.
  events::event denied_event(const flow_key& key, const policy::decision& d) const;
  // With a policy in force, a new flow to a well-known encrypted-DNS
  // endpoint (DoH, DoT, DoQ) gets one warning event per destination: names
  // resolved there bypass the name policy.
  void warn_if_encrypted_dns(const flow_key& key);
  // A flow is open (connected, or its first datagram went out): flow_open.
  void flow_opened(const flow_key& key, flow_record& record);
  // A flow ended: flow_close, when its open was published.
  void flow_closed(const flow_key& key, const flow_record& record);
  // An event about the flow `key`, with its process (looked up now, or the
  // one found when the flow opened); `last` forgets the flow afterwards.
  void emit_for(events::event e, const flow_key& key, bool last);
  // An event about the flow `key` with its protocol, endpoints, name and route filled in.
  events::event flow_event(events::kind what, const flow_key& key, const flow_record& record) const;
  // An ICMP error the host got for a flow's packet (from `report.offender`),
  // passed on to the child quoting the child's own packet.
  void icmp_error_to_child(const flow_key& key, const icmp_report& report, std::span<const std::byte> quoted_packet);

 private:
  asio::awaitable<void> read_tap();
  void handle_frame(packet_buffer buf);
  void handle_tcp(packet_buffer buf, const packet::frame& f);
  void handle_udp(packet_buffer buf, const packet::frame& f);
  void handle_dns_udp(const flow_key& key, const packet::frame& f);
  void make_room_for_udp_flow();
  // Under --proxy-only (or for a synthetic address), or when the policy
  // denies a new flow (`is_new`), a datagram may not leave: the child gets
  // "administratively prohibited", the user an event (once per flow). True
  // when the packet was denied.
  bool deny_datagram(const flow_key& key, const packet::frame& f, bool is_new);
  bool answer_neighbor(const packet::frame& f, std::span<const std::byte> raw);
  void handle_icmp(const packet::frame& f);
  void flow_started();
  void flow_ended();
  // The live flow for `key` in `table`, or end(). A finished flow whose
  // erase has not run yet is dropped here, so a new flow can take its tuple.
  template <class Flow>
  auto find_live(std::unordered_map<flow_key, std::shared_ptr<Flow>, flow_key_hash>& table, const flow_key& key) {
    auto it = table.find(key);
    if (it != table.end() && it->second->finished()) {
      table.erase(it);
      return table.end();
    }
    return it;
  }
  // A flow ended: drop it from its table on the dispatch strand. The lambda
  // keeps `flow` alive until the comparison: a raw pointer could match a new
  // flow for the same (reused) tuple allocated at the same address.
  template <class Flow>
  void forget(std::unordered_map<flow_key, std::shared_ptr<Flow>, flow_key_hash>& table, const flow_key& key,
              std::shared_ptr<Flow> flow) {
    asio::post(dispatch_, [&table, key, flow = std::move(flow)] {
      auto it = table.find(key);
      if (it != table.end() && it->second == flow) table.erase(it);
    });
    flow_ended();
  }

  engine_options opts_;
  packet_pool pool_;  // declared before ctx_: buffers held by pending handlers return here
  asio::io_context ctx_;
  // Keeps the threads in run() until stop() has drained the events: without
  // it they return as soon as the last socket closes, and work posted after
  // that (the final events) would never run.
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  asio::strand<asio::any_io_executor> dispatch_;
  asio::posix::stream_descriptor tap_;
  tap_writer writer_;
  std::unique_ptr<dns::forwarder> dns_;
  std::shared_ptr<dns::name_index> names_ = std::make_shared<dns::name_index>();
  std::shared_ptr<dns::synthetic_names> synthetic_;  // socks5h:// or --proxy-only
  std::shared_ptr<asio::ssl::context> proxy_tls_;
  // A datagram may not leave: the child gets ICMP "administratively
  // prohibited" and, once per flow, the user the event `e`.
  void refuse_datagram(const flow_key& key, const packet::frame& f, events::event e);
  bool query_allowed(const std::string& qname);  // the forwarder's filter (engine_policy.cpp)
  void learn_names(const std::string& qname, const std::vector<dns::answer_record>& records);
  std::unordered_map<flow_key, bool, flow_key_hash> denied_;  // dispatch strand only; events said once
  std::mutex encrypted_dns_mutex_;
  std::unordered_set<std::string> encrypted_dns_warned_;  // destinations already warned about
  // --interactive for datagrams (dispatch strand only): destinations with a
  // question out (their packets are dropped meanwhile), and flows the user
  // allowed once (consumed when the flow starts).
  std::unordered_set<std::string> asking_;
  std::unordered_set<flow_key, flow_key_hash> allowed_once_;
  // Asks the approver about a datagram flow's destination (engine_approval.cpp).
  void ask_for_datagram(const flow_key& key);
  // The request the approver shows (on the events strand: names, process).
  policy::approval_request approval_request_for(const flow_key& key);
  // An answer remembered in the policy as it says (allow once: nothing).
  void remember_answer(const flow_key& key, const std::vector<std::string>& names, policy::approval a);
  // A DNS query over UDP (no reply yet: the dns_query event) or its answer.
  void dns_udp_exchange(const flow_key& key, std::span<const std::byte> query,
                        std::optional<std::span<const std::byte>> reply);
  void drain_events();
  // Looks the owner of a new flow up at once (its first packet), before the
  // connect: short-lived clients may be gone by the time the flow opens.
  void prefetch_owner(const flow_key& key);
  asio::strand<asio::any_io_executor> events_;  // every event is published from here, in order
  std::unique_ptr<process_finder> finder_;      // events_ strand only
  std::unordered_map<flow_key, std::optional<events::process_info>, flow_key_hash> owners_;  // events_ only
  asio::ip::tcp::endpoint dns_tcp_endpoint_;
  std::unordered_map<flow_key, std::shared_ptr<tcp_flow>, flow_key_hash> flows_;  // dispatch strand only
  // Flows that got segments in the current tap batch (dispatch strand only).
  std::vector<std::shared_ptr<tcp_flow>> batch_flows_;
  void end_batch();
  std::unordered_map<flow_key, std::shared_ptr<udp_flow>, flow_key_hash> udp_flows_;  // dispatch strand only
  std::unordered_map<flow_key, std::shared_ptr<icmp_echo_flow>, flow_key_hash> icmp_flows_;  // dispatch strand only
  std::mt19937 isn_rng_;                                                          // dispatch strand only
  // The kernel data path (engine_kernel.cpp); shared_ptr: the type is
  // complete only there.
  struct kernel_state;
  std::shared_ptr<kernel_state> kernel_;
  asio::awaitable<void> read_queue();
  asio::awaitable<void> read_conntrack();
  asio::awaitable<void> serve_dns_udp(std::shared_ptr<asio::ip::udp::socket> socket);
  asio::awaitable<void> accept_transparent(std::shared_ptr<asio::ip::tcp::acceptor> acceptor);
  void on_queued(std::uint32_t id, std::span<const std::byte> l3, std::uint16_t hw_protocol);
  void send_verdict(std::uint32_t id, bool allow);
  asio::awaitable<void> judge_kernel_flow(flow_key key);
  void kernel_flow_decided(const flow_key& key, bool allow, std::string policy_reason, std::string rule);
  void cache_verdict(const flow_key& key, std::string_view reason);
  void kernel_flow_ended(const flow_key& key, std::uint64_t out, std::uint64_t in, std::string_view end);
  void close_kernel_flows();
  void stop_kernel_path();  // from stop(): close_kernel_flows on its strand, waited for (bounded)
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};

  std::mutex live_mu_;
  std::condition_variable live_cv_;
  std::size_t live_flows_ = 0;
  std::atomic<std::size_t> dns_in_flight_{0};

  std::atomic<std::uint64_t> frames_in_{0}, malformed_{0}, ignored_{0}, tcp_flows_{0}, dns_udp_{0},
      udp_dropped_{0}, unknown_rst_{0}, udp_flows_total_{0}, udp_evicted_{0};
};

}  // namespace netpen::relay
