// The published ports' listeners, route fallback and UDP flows (see
// publish_server.hpp).
#include "net/relay/publish_server.hpp"

#include <asio/co_spawn.hpp>
#include <asio/post.hpp>

#include <future>

#include "net/common/asio_helpers.hpp"
#include "net/common/log.hpp"
#include "net/relay/destination.hpp"

namespace netpen::relay {
namespace {

constexpr std::size_t max_datagram = 65535;
constexpr auto sweep_interval = std::chrono::seconds(1);

std::string endpoint_string(const asio::ip::address& a, std::uint16_t port) {
  return (a.is_v6() ? "[" + a.to_string() + "]" : a.to_string()) + ":" + std::to_string(port);
}

}  // namespace

const char* to_string(inbound_route r) {
  switch (r) {
    case inbound_route::sandbox_v4: return "the sandbox's IPv4 address";
    case inbound_route::sandbox_v6: return "the sandbox's IPv6 address";
    case inbound_route::loopback_v4: return "the sandbox's 127.0.0.1";
    case inbound_route::loopback_v6: return "the sandbox's ::1";
  }
  return "?";
}

struct publish_server::udp_port : std::enable_shared_from_this<udp_port> {
  struct client_flow {
    std::shared_ptr<inbound_datagrams> path;
    flow_record record;
    udp_idle_expiry::clock::time_point last = udp_idle_expiry::clock::now();
    bool replied = false;
  };
  udp_port(asio::io_context& ctx, published_port p)
      : strand(asio::make_strand(ctx.get_executor())), socket(strand), port(p), sweep(strand) {}
  asio::strand<asio::any_io_executor> strand;
  asio::ip::udp::socket socket;
  published_port port;
  asio::steady_timer sweep;
  std::map<asio::ip::udp::endpoint, client_flow> flows;
  bool closed = false;
};

publish_server::publish_server(asio::io_context& ctx, flow_context& services, inbound_connector& connector,
                               udp_idle_expiry udp)
    : ctx_(ctx), services_(services), connector_(connector), udp_(udp) {}

publish_server::~publish_server() { stop(); }

void publish_server::start(std::vector<bound_port> ports) {
  for (auto& b : ports) {
    const auto port = b.port();
    asio::error_code ec;
    if (port.udp) {
      auto p = std::make_shared<udp_port>(ctx_, port);
      p->socket.assign(port.host_address.is_v6() ? asio::ip::udp::v6() : asio::ip::udp::v4(), b.release(), ec);
      if (ec) {
        log::warn("--publish {}: {}", to_string(port), ec.message());
        continue;
      }
      udp_ports_.push_back(p);
      start_udp(p);
      continue;
    }
    auto acceptor = std::make_shared<asio::ip::tcp::acceptor>(asio::make_strand(ctx_.get_executor()));
    acceptor->assign(port.host_address.is_v6() ? asio::ip::tcp::v6() : asio::ip::tcp::v4(), b.release(), ec);
    if (ec) {
      log::warn("--publish {}: {}", to_string(port), ec.message());
      continue;
    }
    acceptors_.push_back(acceptor);
    accept_loop(acceptor, port);
  }
}

void publish_server::accept_loop(std::shared_ptr<asio::ip::tcp::acceptor> acceptor, published_port port) {
  auto loop = [this, acceptor, port]() -> asio::awaitable<void> {
    while (!stopped_.load()) {
      auto [ec, client] = co_await acceptor->async_accept(asio::make_strand(ctx_.get_executor()), use_tuple);
      if (ec) {
        if (ec == asio::error::operation_aborted || stopped_.load()) co_return;
        log::debug("--publish {}: accept: {}", to_string(port), ec.message());
        continue;
      }
      auto req = std::make_shared<inbound_request>();
      req->port = port;
      asio::error_code peer_ec;
      const auto peer = client.remote_endpoint(peer_ec);
      req->client = peer_ec ? "?" : endpoint_string(peer.address(), peer.port());
      auto routes = std::make_shared<std::vector<inbound_route>>(connector_.tcp_routes(port));
      log::debug("--publish {}: connection from {}", to_string(port), req->client);
      try_routes(std::move(client), req, routes, 0);
    }
  };
  asio::co_spawn(acceptor->get_executor(), loop, log_failure("a --publish listener"));
}

// Tries routes[next], and on refusal the next one.
void publish_server::try_routes(asio::ip::tcp::socket client, std::shared_ptr<inbound_request> req,
                                std::shared_ptr<std::vector<inbound_route>> routes, std::size_t next) {
  if (next >= routes->size() || stopped_.load()) {
    report_refused(*req);
    asio::error_code ignored;
    client.set_option(asio::socket_base::linger(true, 0), ignored);  // the host client sees a reset
    client.close(ignored);
    return;
  }
  req->route = (*routes)[next];
  auto refused = [this, req, routes, next](asio::ip::tcp::socket back) {
    log::debug("--publish {}: {} refused {}", to_string(req->port), to_string(req->route), req->client);
    try_routes(std::move(back), req, routes, next + 1);
  };
  connector_.open_tcp(std::move(client), *req, refused);
}

void publish_server::report_refused(const inbound_request& req) {
  flow_key key;
  key.protocol = packet::proto_tcp;
  key.src = child_address(req.port.host_address.is_v6());
  key.src_port = req.port.sandbox_port;
  key.dst = gateway_address(req.port.host_address.is_v6());
  flow_record record;
  record.inbound_client = req.client;
  record.end = "refused";
  services_.opened(key, record);
  services_.closed(key, record);
}

void publish_server::start_udp(std::shared_ptr<udp_port> p) {
  auto receive = [this, p]() -> asio::awaitable<void> {
    std::vector<std::byte> buf(max_datagram);
    for (;;) {
      asio::ip::udp::endpoint from;
      auto [ec, n] = co_await p->socket.async_receive_from(asio::buffer(buf), from, use_tuple);
      if (ec) {
        if (ec == asio::error::operation_aborted || p->closed) co_return;
        continue;  // an ICMP error from an earlier send to a client: not this port's end
      }
      auto it = p->flows.find(from);
      if (it == p->flows.end()) {
        if (p->flows.size() >= udp_.max_flows) continue;  // bounded like the engine's table
        inbound_request req;
        req.port = p->port;
        req.client = endpoint_string(from.address(), from.port());
        std::weak_ptr<udp_port> weak = p;
        auto reply = [weak, from](std::vector<std::byte> payload) {
          auto port = weak.lock();
          if (!port) return;
          asio::post(port->strand, [port, from, payload = std::move(payload)] {
            auto f = port->flows.find(from);
            if (port->closed || f == port->flows.end()) return;
            asio::error_code ignored;
            port->socket.send_to(asio::buffer(payload), from, 0, ignored);
            f->second.record.bytes_in += payload.size();
            f->second.last = udp_idle_expiry::clock::now();
            f->second.replied = true;
          });
        };
        auto path = connector_.open_udp(req, reply);
        if (!path) continue;
        udp_port::client_flow flow;
        flow.path = path;
        flow.record.inbound_client = req.client;
        it = p->flows.emplace(from, std::move(flow)).first;
        services_.opened(path->key(), it->second.record);
      }
      it->second.path->send(std::span<const std::byte>(buf.data(), n));
      it->second.record.bytes_out += n;
      it->second.last = udp_idle_expiry::clock::now();
    }
  };
  asio::co_spawn(p->strand, receive, log_failure("a --publish UDP port"));
  auto sweep = [this, p]() -> asio::awaitable<void> {
    while (!p->closed) {
      p->sweep.expires_after(sweep_interval);
      co_await p->sweep.async_wait(use_tuple);  // cancelled by stop(): `closed` says so
      if (p->closed) co_return;
      const auto now = udp_idle_expiry::clock::now();
      for (auto it = p->flows.begin(); it != p->flows.end();) {
        if (!udp_.expired(now, it->second.last, it->second.replied)) {
          ++it;
          continue;
        }
        it->second.record.end = "expired";
        services_.closed(it->second.path->key(), it->second.record);
        it->second.path->close();
        it = p->flows.erase(it);
      }
    }
  };
  asio::co_spawn(p->strand, sweep, log_failure("a --publish UDP sweep"));
}

void publish_server::stop() {
  if (stopped_.exchange(true)) return;
  for (auto& a : acceptors_) {
    asio::post(a->get_executor(), [a] {
      asio::error_code ignored;
      a->close(ignored);
    });
  }
  std::vector<std::future<void>> done;
  for (auto& p : udp_ports_) {
    auto promise = std::make_shared<std::promise<void>>();
    done.push_back(promise->get_future());
    asio::post(p->strand, [this, p, promise] {
      p->closed = true;
      asio::error_code ignored;
      p->socket.close(ignored);
      p->sweep.cancel();
      for (auto& [from, flow] : p->flows) {
        flow.record.end = "shutdown";
        services_.closed(flow.path->key(), flow.record);
        flow.path->close();
      }
      p->flows.clear();
      promise->set_value();
    });
  }
  for (auto& f : done) f.wait_for(std::chrono::seconds(2));
}

}  // namespace netpen::relay
