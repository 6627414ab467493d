// Published ports' routes into the sandbox (see inbound_paths.hpp).
#include "net/relay/inbound_paths.hpp"

#include <asio/co_spawn.hpp>
#include <asio/ip/udp.hpp>
#include <asio/post.hpp>
#include <sys/socket.h>

#include "net/common/asio_helpers.hpp"
#include "net/common/log.hpp"
#include "net/relay/engine.hpp"
#include "net/relay/host_socket.hpp"
#include "net/relay/inbound_stream_flow.hpp"

namespace netpen::relay {
namespace {
constexpr std::size_t max_datagram = 65535;
}

// Rootful UDP: one connected host socket per host client toward the tree.
class inbound_paths::socket_datagrams final : public inbound_datagrams,
                                              public std::enable_shared_from_this<socket_datagrams> {
 public:
  socket_datagrams(asio::io_context& ctx, asio::ip::udp::endpoint target, reply_fn reply)
      : strand_(asio::make_strand(ctx.get_executor())), socket_(strand_), target_(target), reply_(std::move(reply)) {}

  bool open() {
    asio::error_code ec;
    socket_.open(target_.protocol(), ec);
    if (!ec) socket_.connect(target_, ec);
    if (ec) return false;
    const auto local = socket_.local_endpoint(ec);
    key_.protocol = packet::proto_udp;
    key_.src = from_asio(target_.address());
    key_.src_port = target_.port();
    key_.dst = from_asio(local.address());
    key_.dst_port = local.port();
    asio::co_spawn(strand_, [self = shared_from_this()] { return self->receive(); }, log_failure("an inbound UDP flow"));
    return true;
  }
  void send(std::span<const std::byte> payload) override {
    asio::error_code ignored;
    socket_.send(asio::buffer(payload.data(), payload.size()), 0, ignored);
  }
  void close() override {
    asio::post(strand_, [self = shared_from_this()] {
      asio::error_code ignored;
      self->socket_.close(ignored);
    });
  }
  const flow_key& key() const override { return key_; }

 private:
  asio::awaitable<void> receive() {
    std::vector<std::byte> buf(max_datagram);
    for (;;) {
      auto [ec, n] = co_await socket_.async_receive(asio::buffer(buf), use_tuple);
      if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor || !socket_.is_open()) co_return;
      if (ec) continue;  // the server's port is closed (ICMP): the client's next datagram tries again
      reply_(std::vector<std::byte>(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n)));
    }
  }

  asio::strand<asio::any_io_executor> strand_;
  asio::ip::udp::socket socket_;
  asio::ip::udp::endpoint target_;
  reply_fn reply_;
  flow_key key_;
};

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
      if (opts_.sandbox_socket) fd = opts_.sandbox_socket(v6 ? AF_INET6 : AF_INET);
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

std::shared_ptr<inbound_datagrams> inbound_paths::open_udp(const inbound_request& req, reply_fn reply) {
  const bool v6 = req.port.host_address.is_v6();
  if (engine_ != nullptr) {
    inbound_request r = req;
    r.route = v6 ? inbound_route::sandbox_v6 : inbound_route::sandbox_v4;
    return engine_->open_inbound_udp(r, std::move(reply));
  }
  const auto& tree = v6 && opts_.tree6 ? opts_.tree6 : opts_.tree4;
  if (!tree) return nullptr;
  auto path = std::make_shared<socket_datagrams>(ctx_, asio::ip::udp::endpoint(*tree, req.port.sandbox_port),
                                                 std::move(reply));
  if (!path->open()) return nullptr;
  std::lock_guard lock(mu_);
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
