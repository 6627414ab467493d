// --host-port's relay: carries the tree's flows to the listed ports of the
// host's loopback, and nothing else.
//
// Theory of operation. The tree reaches a listed port three ways:
//  - 127.0.0.1:PORT and [::1]:PORT inside the tree. The tree's loopback is
//    its own namespace's, which netpen (multithreaded, maybe in another
//    user namespace) cannot enter; so the sandbox init opens listening TCP
//    sockets and bound UDP sockets there during setup and hands them over
//    (backends/common/host_port_listeners). serve() takes them.
//  - the gateway under --root: the same sockets, opened by netpen on the
//    host at the veth's gateway addresses, bound to the veth; serve().
//  - the gateway, rootless: through the tap. TCP is a tcp_flow that
//    classify() sends to the host's loopback (tcp_flow_host_port.cpp); UDP
//    datagrams are handed here by the engine (datagram_from_tap) and
//    answered through the tap.
// Every accepted TCP connection is a host_port_stream; every UDP client
// (its address and the port it wrote to) is a host_port_udp_flow with the
// usual idle expiry. The host side always connects to 127.0.0.1 or [::1]
// at the port the tree's packet or socket was addressed to, which is a
// listed one (the listener's own port, or classify's check), so a hostile
// tree reaches no other port or address. No policy is asked: the user
// opened these ports. Flow events carry via "host-port".
// Threads: the listeners' loops and the UDP flow table run on one strand;
// each flow has its own.
#pragma once
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>
#include <asio/strand.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <span>
#include <unordered_map>
#include <vector>

#include "net/common/error.hpp"
#include "net/relay/flow_context.hpp"
#include "net/relay/flow_key.hpp"
#include "net/relay/udp_idle_expiry.hpp"

namespace netpen::relay {

class host_port_stream;
class host_port_udp_flow;

class host_port_relay {
 public:
  host_port_relay(asio::io_context& ctx, flow_context& flows, udp_idle_expiry expiry);
  ~host_port_relay();
  host_port_relay(const host_port_relay&) = delete;
  host_port_relay& operator=(const host_port_relay&) = delete;

  // Takes ownership of `fds`: listening TCP sockets and bound UDP sockets
  // (any namespace), served from now on (threads running).
  result<void> serve(std::vector<int> fds);
  // Rootless: a UDP datagram from the tree to a listed gateway port; the
  // replies go back through the tap.
  void datagram_from_tap(const flow_key& key, std::span<const std::byte> payload);
  // Closes the listeners and ends every flow (bounded wait).
  void stop();

 private:
  using reply_fn = std::function<void(std::span<const std::byte>)>;
  asio::awaitable<void> accept_loop(std::shared_ptr<asio::ip::tcp::acceptor> acceptor);
  asio::awaitable<void> receive_loop(std::shared_ptr<asio::ip::udp::socket> socket);
  // On strand_: the flow of `key` gets `payload`, made with `reply` if new.
  void to_udp_flow(const flow_key& key, std::vector<std::byte> payload, const reply_fn& make_reply);

  asio::io_context& ctx_;
  flow_context& flows_;
  udp_idle_expiry expiry_;
  asio::strand<asio::any_io_executor> strand_;
  std::atomic<bool> stopping_{false};
  // strand_ only:
  std::vector<std::shared_ptr<asio::ip::tcp::acceptor>> acceptors_;
  std::vector<std::shared_ptr<asio::ip::udp::socket>> udp_sockets_;
  std::vector<std::weak_ptr<host_port_stream>> streams_;
  std::unordered_map<flow_key, std::shared_ptr<host_port_udp_flow>, flow_key_hash> udp_flows_;
};

}  // namespace netpen::relay
