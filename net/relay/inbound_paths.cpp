// Published ports' routes into the sandbox (see inbound_paths.hpp).
#include "net/relay/inbound_paths.hpp"

#include <asio/co_spawn.hpp>
#include <asio/ip/udp.hpp>
#include <asio/post.hpp>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "net/common/asio_helpers.hpp"
#include "net/common/log.hpp"
#include "net/relay/engine.hpp"
#include "net/relay/host_socket.hpp"
#include "net/relay/inbound_stream_flow.hpp"
#include "net/relay/inbound_udp_fallback.hpp"
#include "net/relay/socket_datagrams.hpp"

namespace netpen::relay {
inbound_paths::inbound_paths(asio::io_context& ctx, flow_context& services, engine* rootless, inbound_options opts)
    : ctx_(ctx), services_(services), engine_(rootless), opts_(std::move(opts)) {}

inbound_paths::~inbound_paths() { stop(); }

std::vector<inbound_route> inbound_route_order(bool host_v6, bool sandbox_v6, bool loopback) {
  std::vector<inbound_route> routes;
  auto add = [&](inbound_route v4, inbound_route v6, bool v6_ok) {
    if (host_v6 && v6_ok) routes.push_back(v6);
    routes.push_back(v4);
    if (!host_v6 && v6_ok) routes.push_back(v6);
  };
  add(inbound_route::sandbox_v4, inbound_route::sandbox_v6, sandbox_v6);
  if (loopback) add(inbound_route::loopback_v4, inbound_route::loopback_v6, true);
  return routes;
}

std::vector<inbound_route> inbound_paths::tcp_routes(const published_port& port) const {
  return inbound_route_order(port.host_address.is_v6(), engine_ != nullptr || opts_.tree6.has_value(),
                             static_cast<bool>(opts_.sandbox_socket));
}

void inbound_paths::open_tcp(asio::ip::tcp::socket client, const inbound_request& req, refused_fn refused) {
  const bool sandbox = req.route == inbound_route::sandbox_v4 || req.route == inbound_route::sandbox_v6;
  if (sandbox && engine_ != nullptr) {
    engine_->open_inbound_tcp(std::move(client), req, std::move(refused));
    return;
  }
  open_stream(std::move(client), req, std::move(refused));
}

void inbound_paths::open_stream(asio::ip::tcp::socket client, const inbound_request& req, refused_fn refused) {
  asio::ip::address target;
  int fd = -1;
  switch (req.route) {
    case inbound_route::sandbox_v4:
    case inbound_route::sandbox_v6: {
      const auto& tree = req.route == inbound_route::sandbox_v4 ? opts_.tree4 : opts_.tree6;
      if (tree) {
        target = *tree;
        fd = ::socket(target.is_v6() ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      }
      break;
    }
    case inbound_route::loopback_v4:
    case inbound_route::loopback_v6: {
      const bool v6 = req.route == inbound_route::loopback_v6;
      target = v6 ? asio::ip::address(asio::ip::address_v6::loopback())
                  : asio::ip::address(asio::ip::address_v4::loopback());
      if (opts_.sandbox_socket) fd = opts_.sandbox_socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM);
      break;
    }
  }
  std::unique_lock lock(mu_);
  if (fd < 0 || stopping_) {
    lock.unlock();
    if (fd >= 0) ::close(fd);
    if (fd < 0) log::debug("--publish {}: no socket for {}", to_string(req.port), to_string(req.route));
    asio::post(client.get_executor(), [refused = std::move(refused), c = std::move(client)]() mutable {
      refused(std::move(c));
    });
    return;
  }
  const auto id = next_id_++;
  auto done = [this, id] {
    std::lock_guard l(mu_);
    flows_.erase(id);
    cv_.notify_all();
  };
  auto flow = std::make_shared<inbound_stream_flow>(services_, asio::make_strand(ctx_.get_executor()), std::move(client),
                                                    fd, asio::ip::tcp::endpoint(target, req.port.sandbox_port),
                                                    req.client, std::move(refused), done);
  flows_.emplace(id, flow);
  lock.unlock();
  flow->start();
}

// Routes for a UDP flow: the child's address (the host address's family),
// then the sandbox's loopback in that family and the other.
std::shared_ptr<inbound_datagrams> inbound_paths::open_udp(const inbound_request& req, reply_fn to_client) {
  const bool v6 = req.port.host_address.is_v6();
  std::vector<inbound_udp_fallback::route_fn> routes;
  if (engine_ != nullptr) {
    inbound_request r = req;
    r.route = v6 ? inbound_route::sandbox_v6 : inbound_route::sandbox_v4;
    routes.push_back([this, r](reply_fn reply, std::function<void()> refused) {
      return engine_->open_inbound_udp(r, std::move(reply), std::move(refused));
    });
  } else if (const auto& tree = v6 && opts_.tree6 ? opts_.tree6 : opts_.tree4; tree) {
    routes.push_back([this, target = asio::ip::udp::endpoint(*tree, req.port.sandbox_port)](
                         reply_fn reply, std::function<void()> refused) { return udp_socket(target, -1, reply, refused); });
  }
  if (opts_.sandbox_socket) {
    for (const bool loopback_v6 : {v6, !v6}) {
      const auto loopback = loopback_v6 ? asio::ip::address(asio::ip::address_v6::loopback())
                                        : asio::ip::address(asio::ip::address_v4::loopback());
      routes.push_back([this, target = asio::ip::udp::endpoint(loopback, req.port.sandbox_port)](
                           reply_fn reply, std::function<void()> refused) {
        const int fd = opts_.sandbox_socket(target.address().is_v6() ? AF_INET6 : AF_INET, SOCK_DGRAM);
        if (fd < 0)
          log::debug("--publish: no UDP socket inside the sandbox for {}: {}", target.address().to_string(),
                     std::strerror(errno));
        return fd < 0 ? nullptr : udp_socket(target, fd, reply, refused);
      });
    }
  }
  auto flow = std::make_shared<inbound_udp_fallback>(std::move(routes), std::move(to_client));
  if (!flow->open()) return nullptr;
  return flow;
}

// A connected host UDP socket (`fd` made inside the sandbox, or -1); tracked
// so stop() closes it.
std::shared_ptr<inbound_datagrams> inbound_paths::udp_socket(asio::ip::udp::endpoint target, int fd,
                                                             reply_fn reply, std::function<void()> refused) {
  auto path = std::make_shared<socket_datagrams>(ctx_, target, std::move(reply), std::move(refused));
  std::lock_guard lock(mu_);
  if (stopping_) {
    if (fd >= 0) ::close(fd);
    return nullptr;
  }
  if (!path->open(fd)) {
    log::debug("--publish: cannot connect a UDP socket to {}", target.address().to_string());
    return nullptr;
  }
  std::erase_if(datagrams_, [](const auto& entry) { return entry.second.expired(); });
  datagrams_.emplace(next_id_++, path);
  return path;
}

void inbound_paths::stop() {
  std::unique_lock lock(mu_);
  if (stopping_) return;
  stopping_ = true;
  for (auto& [id, flow] : flows_) flow->shutdown();
  for (auto& [id, weak] : datagrams_)
    if (auto d = weak.lock()) d->close();
  cv_.wait_for(lock, std::chrono::seconds(2), [this] { return flows_.empty(); });
}

}  // namespace netpen::relay
