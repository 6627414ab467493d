// Inbound flows (--publish): what the publish server (publish_server.hpp)
// asks of the data path to reach a server inside the sandbox. The rootless
// engine opens TCP through the tap (its endpoint's active open) and sends
// UDP as datagrams from the gateway; the rootful path connects host sockets
// to the tree's veth address (the kernel routes). Either may fall back to
// the sandbox's own loopback with a socket made inside its network
// namespace, for a server bound to 127.0.0.1 or ::1 only.
//
// The policy does not apply to inbound flows: the user published the port.
#pragma once
#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "net/relay/flow_key.hpp"
#include "net/relay/published_port.hpp"

namespace netpen::relay {

// Where an inbound connection is opened, tried in order until one is not refused.
enum class inbound_route {
  sandbox_v4,   // the child's address (rootless: through the tap; rootful: the veth)
  sandbox_v6,
  loopback_v4,  // 127.0.0.1 inside, with a socket made in the sandbox's netns
  loopback_v6,  // ::1 inside
};

const char* to_string(inbound_route r);

// The order to try routes in (pure): the child's address before the
// sandbox's loopback, each in the host address's family first; IPv6 routes
// only where the sandbox has IPv6, loopback ones only with a way to make a
// socket inside.
std::vector<inbound_route> inbound_route_order(bool host_v6, bool sandbox_v6, bool loopback);

struct inbound_request {
  published_port port;
  std::string client;  // the host client, "127.0.0.1:40000"
  inbound_route route = inbound_route::sandbox_v4;
};

// A UDP flow from one host client to the server in the sandbox.
class inbound_datagrams {
 public:
  virtual ~inbound_datagrams() = default;
  virtual void send(std::span<const std::byte> payload) = 0;
  virtual void close() = 0;
  // The flow's tuple as the child sees it (src: the server's address and port).
  virtual const flow_key& key() const = 0;
};

class inbound_connector {
 public:
  // Hands a refused client back for the next route.
  using refused_fn = std::function<void(asio::ip::tcp::socket client)>;
  // Datagrams from the server to the host client (any thread).
  using reply_fn = std::function<void(std::vector<std::byte> payload)>;

  // The routes this data path offers, in the order to try them.
  virtual std::vector<inbound_route> tcp_routes(const published_port& port) const = 0;
  // Takes `client` and opens the connection by req.route. Connected, the
  // flow relays and reports itself (inbound flow_open/flow_close); refused,
  // `refused` gets the client back and nothing was reported.
  virtual void open_tcp(asio::ip::tcp::socket client, const inbound_request& req, refused_fn refused) = 0;
  // A UDP flow toward the server on port.sandbox_port; nullptr when none can be made.
  virtual std::shared_ptr<inbound_datagrams> open_udp(const inbound_request& req, reply_fn reply) = 0;

 protected:
  ~inbound_connector() = default;
};

}  // namespace netpen::relay
