// --host-port's listeners and flows (see host_port_relay.hpp).
#include "net/relay/host_port_relay.hpp"

#include <asio/co_spawn.hpp>
#include <asio/post.hpp>
#include <fmt/format.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <optional>
#include <thread>

#include "net/common/asio_helpers.hpp"
#include "net/common/log.hpp"
#include "net/relay/host_port_stream.hpp"
#include "net/relay/host_port_udp_flow.hpp"
#include "net/relay/host_socket.hpp"

namespace netpen::relay {
namespace {

constexpr std::size_t max_datagram = 65535;
constexpr auto stop_grace = std::chrono::seconds(2);

int socket_option(int fd, int name) {
  int value = -1;
  socklen_t len = sizeof value;
  if (::getsockopt(fd, SOL_SOCKET, name, &value, &len) != 0) return -1;
  return value;
}

template <class Endpoint>
flow_key key_of(std::uint8_t protocol, const Endpoint& from, const Endpoint& to) {
  flow_key k;
  k.protocol = protocol;
  k.src = from_asio(from.address());
  k.src_port = from.port();
  k.dst = from_asio(to.address());
  k.dst_port = to.port();
  return k;
}

}  // namespace

host_port_relay::host_port_relay(asio::io_context& ctx, flow_context& flows, udp_idle_expiry expiry)
    : ctx_(ctx), flows_(flows), expiry_(expiry), strand_(asio::make_strand(ctx.get_executor())) {}

// stop() ran (data_path::stop) or the threads never did: nothing to wait for.
host_port_relay::~host_port_relay() { stopping_.store(true); }

result<void> host_port_relay::serve(std::vector<int> fds) {
  std::vector<std::shared_ptr<asio::ip::tcp::acceptor>> acceptors;
  std::vector<std::shared_ptr<asio::ip::udp::socket>> sockets;
  std::optional<error> failure;
  for (const int fd : fds) {
    if (failure) {
      ::close(fd);
      continue;
    }
    const int type = socket_option(fd, SO_TYPE);
    const bool v6 = socket_option(fd, SO_DOMAIN) == AF_INET6;
    asio::error_code ec;
    if (type == SOCK_STREAM) {
      auto a = std::make_shared<asio::ip::tcp::acceptor>(strand_);
      a->assign(v6 ? asio::ip::tcp::v6() : asio::ip::tcp::v4(), fd, ec);
      if (!ec) acceptors.push_back(std::move(a));
    } else if (type == SOCK_DGRAM) {
      auto s = std::make_shared<asio::ip::udp::socket>(strand_);
      s->assign(v6 ? asio::ip::udp::v6() : asio::ip::udp::v4(), fd, ec);
      if (!ec) sockets.push_back(std::move(s));
    } else {
      ec = asio::error::invalid_argument;
    }
    if (ec) {
      ::close(fd);
      failure = error{"host-port", fmt::format("--host-port: cannot serve a listener: {}", ec.message())};
    }
  }
  if (failure) return unexpected(*failure);
  asio::post(strand_, [this, acceptors = std::move(acceptors), sockets = std::move(sockets)] {
    for (const auto& a : acceptors) {
      acceptors_.push_back(a);
      asio::co_spawn(strand_, accept_loop(a), log_failure("host-port listener"));
    }
    for (const auto& s : sockets) {
      udp_sockets_.push_back(s);
      asio::co_spawn(strand_, receive_loop(s), log_failure("host-port UDP listener"));
    }
  });
  return {};
}

asio::awaitable<void> host_port_relay::accept_loop(std::shared_ptr<asio::ip::tcp::acceptor> acceptor) {
  for (;;) {
    auto [ec, client] = co_await acceptor->async_accept(asio::make_strand(ctx_.get_executor()), use_tuple);
    if (stopping_.load() || ec == asio::error::operation_aborted) co_return;
    if (ec) {
      log::debug("host-port listener: {}", ec.message());
      continue;
    }
    asio::error_code lec, rec;
    const auto local = client.local_endpoint(lec);
    const auto remote = client.remote_endpoint(rec);
    if (lec || rec) continue;
    auto stream = std::make_shared<host_port_stream>(flows_, std::move(client),
                                                     key_of(packet::proto_tcp, remote, local), [] {});
    if (streams_.size() >= 256 && streams_.size() % 256 == 0)
      std::erase_if(streams_, [](const auto& w) { return w.expired(); });
    streams_.push_back(stream);
    stream->start();
  }
}

asio::awaitable<void> host_port_relay::receive_loop(std::shared_ptr<asio::ip::udp::socket> socket) {
  std::vector<std::byte> buf(max_datagram);
  asio::error_code lec;
  const auto local = socket->local_endpoint(lec);
  if (lec) co_return;
  for (;;) {
    asio::ip::udp::endpoint from;
    auto [ec, n] = co_await socket->async_receive_from(asio::buffer(buf), from, use_tuple);
    if (stopping_.load() || ec == asio::error::operation_aborted) co_return;
    if (ec) continue;
    const auto key = key_of(packet::proto_udp, from, local);
    auto make_reply = [this, socket, from]() -> reply_fn {
      return [this, socket, from](std::span<const std::byte> data) {
        asio::post(strand_, [socket, from, d = std::vector<std::byte>(data.begin(), data.end())] {
          asio::error_code ignored;
          socket->send_to(asio::buffer(d), from, 0, ignored);
        });
      };
    };
    to_udp_flow(key, std::vector<std::byte>(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n)),
                make_reply());
  }
}

void host_port_relay::datagram_from_tap(const flow_key& key, std::span<const std::byte> payload) {
  if (stopping_.load()) return;
  asio::post(strand_, [this, key, p = std::vector<std::byte>(payload.begin(), payload.end())]() mutable {
    to_udp_flow(key, std::move(p), [this, key](std::span<const std::byte> data) {
      if (!stopping_.load()) flows_.tap().send_udp(key, data);
    });
  });
}

void host_port_relay::to_udp_flow(const flow_key& key, std::vector<std::byte> payload, const reply_fn& reply) {
  if (stopping_.load()) return;
  auto it = udp_flows_.find(key);
  if (it != udp_flows_.end() && it->second->finished()) {
    udp_flows_.erase(it);
    it = udp_flows_.end();
  }
  if (it == udp_flows_.end()) {
    if (udp_flows_.size() >= expiry_.max_flows) return;  // full: dropped, as a busy router would
    auto done = [this](const flow_key& k, const std::shared_ptr<datagram_flow>& flow) {
      asio::post(strand_, [this, k, flow] {
        if (auto f = udp_flows_.find(k); f != udp_flows_.end() && f->second == flow) udp_flows_.erase(f);
      });
    };
    auto flow = std::make_shared<host_port_udp_flow>(flows_, asio::make_strand(ctx_.get_executor()), key, expiry_,
                                                     done, reply);
    it = udp_flows_.emplace(key, flow).first;
    flow->start();
  }
  it->second->send(std::move(payload));
}

void host_port_relay::stop() {
  if (stopping_.exchange(true)) return;
  std::promise<void> closed;
  auto f = closed.get_future();
  asio::post(strand_, [this, &closed] {
    asio::error_code ignored;
    for (auto& a : acceptors_) a->close(ignored);
    for (auto& s : udp_sockets_) s->close(ignored);
    for (auto& w : streams_)
      if (auto s = w.lock()) s->shutdown();
    for (auto& [key, flow] : udp_flows_) flow->shutdown();
    closed.set_value();
  });
  if (f.wait_for(stop_grace) != std::future_status::ready) return;
  // The flows publish their close on their own strands: wait for them (bounded).
  const auto deadline = std::chrono::steady_clock::now() + stop_grace;
  auto all_done = [this] {
    std::promise<bool> done;
    auto answer = done.get_future();
    asio::post(strand_, [this, &done] {
      bool all = true;
      for (auto& w : streams_)
        if (auto s = w.lock(); s && !s->finished()) all = false;
      for (auto& [key, flow] : udp_flows_)
        if (!flow->finished()) all = false;
      done.set_value(all);
    });
    return answer.wait_for(stop_grace) == std::future_status::ready && answer.get();
  };
  while (!all_done() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

}  // namespace netpen::relay
