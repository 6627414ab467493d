// One relayed UDP flow (a 5-tuple from the child): a connected host UDP
// socket carrying datagrams both ways for as long as the flow is used.
//
// Theory of operation. All work runs on the flow's strand.
//   - send(): a datagram from the child goes out of the host socket with the
//     child's TTL / hop limit copied (so traceroute-style probes expire where
//     they would have). The socket is non-blocking: if its send buffer is
//     full the datagram is dropped, as a router would.
//   - receive loop: every datagram from the far end goes back to the child
//     from the flow's destination address and port.
//   - errors: with IP_RECVERR / IPV6_RECVERR the kernel queues every ICMP
//     error for the flow with the hop that sent it; the flow hands each to
//     the child from that hop, quoting the child's last datagram (traceroute
//     sees the real routers; a closed port fails at once).
//   - expiry: udp_flow_policy (30 s without a reply, 180 s once answered);
//     the watchdog closes the flow and the engine drops it from its table.
#pragma once
#include <asio/awaitable.hpp>
#include <asio/ip/udp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>

#include <atomic>
#include <memory>
#include <optional>
#include <vector>

#include "net/relay/datagram_egress.hpp"
#include "net/relay/flow_key.hpp"
#include "net/relay/flow_record.hpp"
#include "net/relay/packet_pool.hpp"
#include "net/relay/socket_errors.hpp"
#include "net/relay/udp_flow_policy.hpp"

namespace netpen::relay {

class engine;

class udp_flow : public std::enable_shared_from_this<udp_flow> {
 public:
  udp_flow(engine& eng, asio::strand<asio::any_io_executor> strand, const flow_key& key,
           const udp_flow_policy& policy);

  void start();
  // A datagram from the child (payload inside `buf`), with its TTL, and the
  // child's whole IP packet for quoting in ICMP errors.
  void send(packet_buffer buf, std::span<const std::byte> payload, std::span<const std::byte> ip_packet,
            std::uint8_t ttl);
  void shutdown();

  bool finished() const { return finished_.load(std::memory_order_acquire); }
  udp_flow_policy::clock::time_point last_activity() const {
    return udp_flow_policy::clock::time_point(udp_flow_policy::clock::duration(last_activity_.load()));
  }

 private:
  asio::awaitable<void> run();
  asio::awaitable<void> receive_loop();
  asio::awaitable<void> watchdog();
  void touch();
  void set_ttl(std::uint8_t ttl);
  bool report_errors(const asio::error_code& ec);
  bool open_socket();

  engine& engine_;
  asio::strand<asio::any_io_executor> strand_;
  flow_key key_;
  udp_flow_policy policy_;
  asio::ip::udp::socket socket_;
  asio::steady_timer idle_timer_;
  std::vector<std::byte> last_packet_;  // the child's last IP packet (for ICMP quotes)
  int current_ttl_ = -1;
  bool got_reply_ = false;
  bool opened_ = false;
  std::optional<icmp_report> open_error_;  // why the host socket could not connect
  bool closed_ = false;
  flow_record record_;
  datagram_egress egress_;  // the host socket as the egress capture sees it
  std::atomic<udp_flow_policy::clock::rep> last_activity_{0};
  std::atomic<bool> finished_{false};
};

}  // namespace netpen::relay
