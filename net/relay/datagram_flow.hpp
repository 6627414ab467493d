// What every relayed datagram flow (udp_flow, icmp_echo_flow) shares: a
// connected host socket opened at start, a receive loop racing an idle
// watchdog, open/close reporting, shutdown, and the TTL copied from the
// child's packets.
//
// Lifecycle (all on the flow's strand):
//   start()     open_socket(); flow_open (end "unreachable" if it failed:
//               later packets get the host's ICMP error at once); run().
//   run()       receive_loop() || watchdog(); then the socket is closed.
//   watchdog    idle expiry (udp_idle_expiry: 30 s without a reply, 180 s
//               once answered): end "expired".
//   shutdown()  the run ends: end "shutdown", socket closed.
//   done        flow_close, finished() turns true, the owner's `on_done`
//               drops it from its table.
// Deferred (start_deferred(): a QUIC flow judged by claim, udp_flow.hpp):
// run() first awaits admit(); admitted, the socket opens and flow_open is
// published as start() does, then after_open() and the loops; refused, the
// flow only waits for its idle expiry (its datagrams are refused meanwhile)
// and publishes nothing more than the denial admit() reported.
#pragma once
#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>

#include "net/relay/datagram_egress.hpp"
#include "net/relay/datagram_shedding.hpp"
#include "net/relay/flow_context.hpp"
#include "net/relay/flow_key.hpp"
#include "net/relay/flow_record.hpp"
#include "net/relay/failure_answer.hpp"
#include "net/relay/udp_idle_expiry.hpp"

namespace netpen::relay {

class datagram_flow : public std::enable_shared_from_this<datagram_flow> {
 public:
  using clock = udp_idle_expiry::clock;
  // Called once the flow has ended, from its strand.
  using done_fn = std::function<void(const flow_key&, std::shared_ptr<datagram_flow>)>;

  // `verdict`: the record's policy and rule (the verdict that let it start).
  datagram_flow(flow_context& ctx, asio::strand<asio::any_io_executor> strand, const flow_key& key,
                const udp_idle_expiry& expiry, flow_record verdict, done_fn on_done, const char* kind);
  virtual ~datagram_flow() = default;

  // Opens the socket and starts the flow. Call once, right after construction.
  void start();
  // Starts the flow without opening anything: run() asks admit() first.
  void start_deferred();
  void shutdown();

  shed_slot shed;  // the engine's dispatch strand only (datagram_shedding.hpp)
  bool finished() const { return finished_.load(std::memory_order_acquire); }
  clock::time_point last_activity() const { return clock::time_point(clock::duration(last_activity_.load())); }
  const flow_key& key() const { return key_; }

 protected:
  // Opens and connects the host socket; on failure may set open_error_.
  virtual bool open_socket() = 0;
  virtual asio::awaitable<void> receive_loop() = 0;
  virtual void close_socket() = 0;
  virtual int socket_fd() = 0;
  // Deferred flows: the verdict (record_ carries it when true), and what
  // follows a successful open (the datagrams held meanwhile go out).
  virtual asio::awaitable<bool> admit() { co_return true; }
  virtual void after_open() {}

  void touch();
  // Copies the child's TTL / hop limit onto the socket when it changed.
  void set_ttl(std::uint8_t ttl);
  // The host cannot reach the destination at all: the packet gets the
  // host's ICMP error at once. True when that was the case.
  bool answered_by_open_error(std::span<const std::byte> ip_packet);

  flow_context& ctx_;
  asio::strand<asio::any_io_executor> strand_;
  flow_key key_;
  std::optional<icmp_report> open_error_;  // why the host socket could not connect
  bool closed_ = false;
  bool got_reply_ = false;
  flow_record record_;
  datagram_egress egress_;  // the host socket as the egress capture sees it

 private:
  asio::awaitable<void> run();
  asio::awaitable<void> watchdog();
  void open_and_announce();
  void spawn_run();

  udp_idle_expiry expiry_;
  asio::steady_timer idle_timer_;
  done_fn on_done_;
  const char* kind_;
  bool opened_ = false;
  bool deferred_ = false;
  int current_ttl_ = -1;
  std::atomic<clock::rep> last_activity_{0};
  std::atomic<bool> finished_{false};
};

}  // namespace netpen::relay
