// The host side of published ports (--publish) while the command runs.
//
// Theory of operation. The listeners were bound before the command started
// (published_port.hpp); here they are served on the relay's io_context:
//   TCP  an accept loop per port; each client is handed to the data path's
//        inbound_connector by the first route it offers (the child's address,
//        IPv4 then IPv6, the host address's family first; then the sandbox's
//        loopback where the path can make a socket inside). A refused route
//        hands the client back for the next; when every route refused, the
//        client is reset and one inbound flow_open/flow_close with end
//        "refused" is reported. A connected flow reports itself.
//   UDP  one socket per port, read on its strand; each host client is one
//        flow (the connector's inbound_datagrams), replies go back to that
//        client from the published socket. Flows expire by udp_idle_expiry
//        (unanswered / answered idle times) and the table is bounded the
//        same way; a flow reports flow_open at its first datagram and
//        flow_close (bytes, "expired" or "shutdown") at its end.
// stop() closes the listeners and ends the UDP flows; the TCP flows belong
// to the data path, which stops them.
#pragma once
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>

#include <atomic>
#include <map>
#include <memory>
#include <vector>

#include "net/relay/flow_context.hpp"
#include "net/relay/inbound.hpp"
#include "net/relay/published_port.hpp"
#include "net/relay/udp_idle_expiry.hpp"

namespace netpen::relay {

class publish_server {
 public:
  publish_server(asio::io_context& ctx, flow_context& services, inbound_connector& connector, udp_idle_expiry udp);
  ~publish_server();
  publish_server(const publish_server&) = delete;
  publish_server& operator=(const publish_server&) = delete;

  // Starts serving the bound ports (takes their fds).
  void start(std::vector<bound_port> ports);
  // Closes the listeners and ends the UDP flows (bounded wait).
  void stop();

 private:
  struct udp_port;
  void accept_loop(std::shared_ptr<asio::ip::tcp::acceptor> acceptor, published_port port);
  void try_routes(asio::ip::tcp::socket client, std::shared_ptr<inbound_request> req,
                  std::shared_ptr<std::vector<inbound_route>> routes, std::size_t next);
  void report_refused(const inbound_request& req);
  void start_udp(std::shared_ptr<udp_port> p);

  asio::io_context& ctx_;
  flow_context& services_;
  inbound_connector& connector_;
  udp_idle_expiry udp_;
  std::vector<std::shared_ptr<asio::ip::tcp::acceptor>> acceptors_;
  std::vector<std::shared_ptr<udp_port>> udp_ports_;
  std::atomic<bool> stopped_{false};
};

}  // namespace netpen::relay
