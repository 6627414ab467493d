// The data path's inbound_connector for published ports (--publish).
//
// Routes, in order (the host address's family first):
//   sandbox_v4/v6   rootless: the engine opens through the tap (the server
//                   sees the gateway); rootful: a host socket connects to the
//                   tree's veth address (the kernel routes; the server sees
//                   the veth's host address, the gateway)
//   loopback_v4/v6  a socket made inside the sandbox's network namespace
//                   (`sandbox_socket`) connects to 127.0.0.1 / ::1 there:
//                   for a server bound to loopback only
// UDP: rootless through the engine; rootful one connected host socket per
// host client toward the tree's address. Refused there (ICMP port
// unreachable before any answer), the flow moves to the sandbox's loopback
// (127.0.0.1 / ::1, a UDP socket made inside) and resends what was
// unanswered (inbound_udp_fallback.hpp).
// stop() resets the stream flows it made and waits for them (bounded).
#pragma once
#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>
#include <asio/ip/udp.hpp>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "net/relay/flow_context.hpp"
#include "net/relay/inbound.hpp"

namespace netpen::relay {

class engine;
class inbound_stream_flow;

struct inbound_options {
  // Rootful: the tree's addresses on its veth. Unset: the rootless engine's tap.
  std::optional<asio::ip::address> tree4, tree6;
  // A new socket (AF_INET or AF_INET6; SOCK_STREAM or SOCK_DGRAM) inside the
  // sandbox's network namespace, or -1; unset: no loopback fallback.
  std::function<int(int family, int type)> sandbox_socket;
};

class inbound_paths final : public inbound_connector {
 public:
  // `rootless` is the engine (null under --root).
  inbound_paths(asio::io_context& ctx, flow_context& services, engine* rootless, inbound_options opts);
  ~inbound_paths();

  std::vector<inbound_route> tcp_routes(const published_port& port) const override;
  void open_tcp(asio::ip::tcp::socket client, const inbound_request& req, refused_fn refused) override;
  std::shared_ptr<inbound_datagrams> open_udp(const inbound_request& req, reply_fn reply) override;
  void stop();

 private:
  void open_stream(asio::ip::tcp::socket client, const inbound_request& req, refused_fn refused);
  std::shared_ptr<inbound_datagrams> udp_socket(asio::ip::udp::endpoint target, int fd, reply_fn reply,
                                                std::function<void()> refused);

  asio::io_context& ctx_;
  flow_context& services_;
  engine* engine_;
  inbound_options opts_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::uint64_t next_id_ = 0;
  bool stopping_ = false;
  std::unordered_map<std::uint64_t, std::shared_ptr<inbound_stream_flow>> flows_;
  std::unordered_map<std::uint64_t, std::weak_ptr<inbound_datagrams>> datagrams_;
};

}  // namespace netpen::relay
