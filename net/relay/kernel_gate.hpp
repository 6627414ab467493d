// The rootful backend's data path: the kernel forwards and NATs the tree's
// packets itself; the gate only decides and observes.
//
// Theory of operation:
//  - New flows. The tree's own netns queues every packet of a flow that has
//    not seen a reply yet (`ct state new`, no bypass: without netpen the
//    packet is dropped). The first one starts a judgement (the same policy,
//    approver and events as the rootless relay: flow_context::judge);
//    packets that arrive meanwhile (SYN retransmissions, more datagrams)
//    wait in the queue and get the same verdict (gate_table). The verdict
//    is remembered per 5-tuple until the flow's conntrack entry ends.
//    Allowed: NF_ACCEPT, flow_open. Denied: NF_REPEAT with the deny mark, so
//    the tree's table rejects it (TCP reset, else ICMP administratively
//    prohibited), and one `denied`. Datagrams under --proxy-only (or to a
//    name resolved for the proxy) are denied as in the rootless relay.
//  - Flow ends. Conntrack events of the tree's netns (accounting on) give
//    each flow's end with its bytes each way (IP bytes, headers included):
//    flow_close. Flows still open when the run ends close as "shutdown".
//    Verdicts that cannot change are cached in the tree's table
//    (cache_allowed) when nothing watches single flows: new flows to that
//    destination then skip the queue.
//  - DNS. The host table redirects the tree's port-53 traffic (any address)
//    to the gateway, where the shared DNS forwarder answers UDP and TCP.
//  - Proxy mode. The host table's TPROXY rule hands every TCP connection of
//    the tree (after the gate allowed its SYN, held until the tunnel is
//    open) to a transparent listener on the gateway; each accepted
//    connection is a transparent_flow. Its events and bytes still come from
//    the gate and the tree's conntrack.
//  - Claims (when observing). The tree's table copies the first packets of
//    each TCP flow to an NFLOG group (no verdict: they never wait); their
//    reassembled first bytes are sniffed (first_bytes.hpp), and so are the
//    queued datagrams of UDP/443 flows (QUIC). The claim goes into the
//    flow's record (gate_table::claimed), which its flow_close carries.
//  - Claim mode (the policy judges claimed names, with or without a proxy).
//    The same TPROXY rule and listener. A TCP SYN judged by claim
//    (flow_context::judged_by_claim: not refused outright by address) is
//    let go without a verdict (gate_table::await_claim, no flow_open); its
//    accepted connection is a claim_flow, which reads the first bytes,
//    judges the claimed name and refuses (RST) or tells the gate (flow_open
//    with the claim and the policy in the record) and connects. A SYN
//    refused by address is rejected as before. A QUIC flow (UDP/443) judged
//    by claim is judged by the SNI of its first datagrams (quic_sniffer; the
//    ones that arrive within `quic_wait` while the ClientHello is
//    incomplete), and the verdict answers its queued packets as before.
//    Nothing is cached in the tree's table in claim mode.
// Everything here runs on one strand. Files: kernel_gate.cpp (the queue and
// conntrack), kernel_gate_claim_mode.cpp (claim mode's verdicts),
// kernel_gate_services.cpp (DNS, the transparent listener),
// kernel_gate_claims.cpp (the first bytes' claims).
#pragma once
#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/strand.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "net/common/error.hpp"
#include "net/netfilter/netfilter_socket.hpp"
#include "net/relay/first_bytes.hpp"
#include "net/policy/policy.hpp"
#include "net/relay/gate_table.hpp"
#include "net/relay/relay_sizes.hpp"
#include "net/sniff/claim.hpp"

namespace netpen::relay {

class claim_flow;
class flow_services;
class transparent_flow;
namespace detail {
struct quic_claim_wait;
}

// What the rootful backend hands the gate: its netfilter sockets in the
// tree's netns and where to serve.
struct kernel_path {
  netfilter::netlink_socket queue;        // NFQUEUE `queue_num` in the tree's netns
  std::uint16_t queue_num = 0;
  std::uint32_t deny_mark = 0;            // a verdict "repeat" with this mark makes the tree's table reject it
  netfilter::netlink_socket conntrack;    // conntrack events of the tree's netns (with byte counters)
  std::vector<asio::ip::address> gateways;  // the DNS forwarder listens here, UDP and TCP
  std::uint16_t dns_port = 53;
  // Proxy mode and claim mode: the host's TPROXY rule sends the tree's TCP
  // to this port on the gateways, where the gate listens (IP_TRANSPARENT);
  // 0: neither.
  std::uint16_t proxy_port = 0;
  // The gate's verdict cache in the tree's table: new flows to this
  // destination (address, protocol, port) skip the queue for `ttl`. Unset:
  // every new flow is queued.
  std::function<void(const flow_key& key, std::chrono::seconds ttl)> cache_allowed;
  // When netpen observes: the NFLOG group to which the tree's table copies
  // the first packets each TCP flow sends (no verdict: nothing waits), for
  // what the flows claim (kernel_gate_claims.cpp).
  std::optional<netfilter::netlink_socket> first_bytes = std::nullopt;
};

class kernel_gate {
 public:
  kernel_gate(asio::io_context& ctx, flow_services& services, kernel_path path);
  ~kernel_gate();
  kernel_gate(const kernel_gate&) = delete;
  kernel_gate& operator=(const kernel_gate&) = delete;

  // Starts serving (threads running): the queue, conntrack, DNS, proxy mode.
  result<void> start();
  // Stops reading and closes every flow still open (bounded wait).
  void stop();
  // Its part of the stats line (relay_sizes.hpp), read on its strand;
  // `done` runs there.
  void sizes(std::function<void(relay_sizes)> done);

 private:
  // kernel_gate.cpp
  asio::awaitable<void> read_queue();
  void on_queued(std::uint32_t id, std::span<const std::byte> l3, std::uint16_t hw_protocol);
  void send_verdict(std::uint32_t id, bool allow);
  asio::awaitable<void> judge_flow(flow_key key, std::vector<std::byte> first_datagram);
  asio::awaitable<bool> dial_if_proxied(const flow_key& key);
  void decided(const flow_key& key, bool allow, std::string policy_reason, std::string rule,
               sniff::claim claim = {});
  asio::awaitable<void> read_conntrack();
  void flow_ended(const flow_key& key, std::uint64_t out, std::uint64_t in, std::string_view end);
  void close_flows();
  // kernel_gate_claim_mode.cpp
  bool awaits_claim(const flow_key& key) const;
  void let_go_for_claim(const flow_key& key);
  bool sniffs_quic(const flow_key& key) const;
  void more_quic(const flow_key& key, std::span<const std::byte> datagram);
  asio::awaitable<policy::decision> judge_quic(const flow_key& key, std::vector<std::byte> first_datagram,
                                               sniff::claim& claim);
  void start_claim_flow(const flow_key& key, asio::ip::tcp::socket socket, asio::strand<asio::any_io_executor> strand);
  void claim_allowed(const flow_key& key, const policy::decision& d, const sniff::claim& claim, bool pending);
  void close_claims();
  // kernel_gate_services.cpp
  result<void> serve_dns();
  result<void> listen_transparent();
  asio::awaitable<void> serve_dns_udp(std::shared_ptr<asio::ip::udp::socket> socket);
  asio::awaitable<void> accept_transparent(std::shared_ptr<asio::ip::tcp::acceptor> acceptor);
  void close_services();
  // kernel_gate_claims.cpp
  result<void> watch_first_bytes();
  asio::awaitable<void> read_first_bytes();
  void on_first_bytes(std::span<const std::byte> l3, std::uint16_t hw_protocol);
  void sniff_datagram(const flow_key& key, const packet::frame& f);
  void claimed(const flow_key& key, sniff::claim claim);

  asio::io_context& ctx_;
  flow_services& services_;
  kernel_path path_;
  asio::strand<asio::any_io_executor> strand_;
  asio::posix::stream_descriptor queue_fd_, conntrack_fd_;
  std::atomic<bool> stopping_{false};
  gate_table table_;
  std::vector<std::shared_ptr<asio::ip::udp::socket>> dns_sockets_;
  std::vector<std::shared_ptr<asio::ip::tcp::acceptor>> transparent_;  // proxy mode's listeners
  std::unordered_map<flow_key, std::shared_ptr<transparent_flow>, flow_key_hash> dialed_;  // tunnel open, SYN let go
  std::vector<std::weak_ptr<transparent_flow>> spliced_;  // proxied flows, for the end of the run
  bool claim_mode_ = false;  // TCP judged by claim goes to the transparent listener
  std::vector<std::weak_ptr<claim_flow>> claims_;  // for the end of the run
  std::unordered_map<flow_key, std::string_view, flow_key_hash> failed_connects_;  // the end their close says
  std::unordered_map<flow_key, std::shared_ptr<detail::quic_claim_wait>, flow_key_hash> quic_waits_;
  std::array<char, 256> verdict_buf_{};
  std::optional<asio::posix::stream_descriptor> first_bytes_fd_;  // set when path_.first_bytes is
  first_bytes first_bytes_;
};

}  // namespace netpen::relay
