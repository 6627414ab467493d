// An inbound UDP flow (--publish .../udp) that finds its server: it starts
// on the route to the child's address and, when the sandbox refuses the
// flow's datagrams before any answer (an ICMP port unreachable: nothing
// listens there, e.g. a server bound to 127.0.0.1 or ::1 only), moves to the
// next route (the sandbox's loopback, with a socket made in its network
// namespace) and sends the unanswered datagrams again.
//
// Theory of operation. Each route is a factory of an inbound_datagrams that
// is given this flow's reply and a refusal callback tagged with the route's
// index; a refusal of any but the current route, or after an answer, is
// ignored (the server exists). Until the first answer the flow keeps its
// datagrams (bounded: unanswered_limit) to resend them. The flow's key is
// the first route's tuple (the one it reported at flow_open) for its whole
// life. Refused on every route, the flow starts again from the first route
// at its next datagram (the server may have come up since). Thread-safe: send() comes from the publish server's strand, replies
// and refusals from the routes' threads.
#pragma once
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "net/relay/inbound.hpp"

namespace netpen::relay {

class inbound_udp_fallback final : public inbound_datagrams,
                                   public std::enable_shared_from_this<inbound_udp_fallback> {
 public:
  // Opens one route: a path that calls `reply` and `refused`, or nullptr.
  using route_fn = std::function<std::shared_ptr<inbound_datagrams>(inbound_connector::reply_fn reply,
                                                                    std::function<void()> refused)>;
  // At most this many unanswered datagrams (and bytes) are kept to resend.
  static constexpr std::size_t unanswered_limit = 8;
  static constexpr std::size_t unanswered_bytes_limit = 256 * 1024;

  inbound_udp_fallback(std::vector<route_fn> routes, inbound_connector::reply_fn reply);

  // Opens the first route that opens; false when none did.
  bool open();
  void send(std::span<const std::byte> payload) override;
  void close() override;
  const flow_key& key() const override { return key_; }

  // Which route carries the flow now (0: the first); for tests and logs.
  std::size_t route() const;

 private:
  bool open_from(std::size_t first);  // mu_ held
  void refused(std::size_t route);
  void answered(std::vector<std::byte> payload);

  mutable std::mutex mu_;
  std::vector<route_fn> routes_;
  inbound_connector::reply_fn reply_;
  std::shared_ptr<inbound_datagrams> path_;
  std::size_t current_ = 0;
  flow_key key_;
  bool answered_ = false;
  bool closed_ = false;
  std::deque<std::vector<std::byte>> unanswered_;
  std::size_t unanswered_bytes_ = 0;
};

}  // namespace netpen::relay
