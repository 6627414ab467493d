// The rootful gate's services at the gateway addresses (see kernel_gate.hpp):
// the DNS forwarder over UDP and TCP, and the transparent listener of proxy
// mode and claim mode, whose accepted connections are spliced to their
// tunnels, or judged by their claim first (claim_flow).
#include <asio/co_spawn.hpp>
#include <asio/post.hpp>
#include <fmt/format.h>
#include <netinet/in.h>

#include <algorithm>

#include "net/common/asio_helpers.hpp"
#include "net/common/log.hpp"
#include "net/relay/flow_services.hpp"
#include "net/relay/host_socket.hpp"
#include "net/relay/kernel_gate.hpp"
#include "net/relay/transparent_flow.hpp"

namespace netpen::relay {
namespace {

constexpr std::size_t max_dns_query = 65535;

// A listener that accepts connections addressed anywhere (TPROXY):
// IP_TRANSPARENT (IPV6_TRANSPARENT) needs CAP_NET_ADMIN.
result<std::shared_ptr<asio::ip::tcp::acceptor>> open_transparent_listener(const asio::any_io_executor& ex,
                                                                          const asio::ip::tcp::endpoint& at) {
  auto acceptor = std::make_shared<asio::ip::tcp::acceptor>(ex);
  asio::error_code ec;
  acceptor->open(at.protocol(), ec);
  const int one = 1;
  if (!ec) {
    const bool v6 = at.address().is_v6();
    if (::setsockopt(acceptor->native_handle(), v6 ? SOL_IPV6 : SOL_IP, v6 ? IPV6_TRANSPARENT : IP_TRANSPARENT, &one,
                     sizeof one) != 0)
      ec = asio::error_code(errno, asio::system_category());
  }
  if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(at, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return fail("proxy-listener", fmt::format("cannot listen for the tree's TCP on [{}]:{}: {}",
                                              at.address().to_string(), at.port(), ec.message()));
  return acceptor;
}

// Whether `a` is the tree's end of the veth: in a gateway's /30 (IPv4) or
// /64 (IPv6) and not the gateway itself. Only the tree's own connections
// are served: a host socket that reached the listener (say, another run's
// claim flow connecting to this run's gateway) would make netpen connect
// to itself.
bool from_tree(const asio::ip::address& a, const std::vector<asio::ip::address>& gateways) {
  for (const auto& gw : gateways) {
    if (a == gw || a.is_v4() != gw.is_v4()) continue;
    if (a.is_v4() && (a.to_v4().to_uint() & ~3u) == (gw.to_v4().to_uint() & ~3u)) return true;
    if (a.is_v6()) {
      const auto x = a.to_v6().to_bytes(), y = gw.to_v6().to_bytes();
      if (std::equal(x.begin(), x.begin() + 8, y.begin())) return true;
    }
  }
  return false;
}

}  // namespace

result<void> kernel_gate::serve_dns() {
  asio::error_code ec;
  for (const auto& gw : path_.gateways) {
    auto sock = std::make_shared<asio::ip::udp::socket>(strand_);
    const asio::ip::udp::endpoint at(gw, path_.dns_port);
    sock->open(at.protocol(), ec);
    if (!ec) sock->bind(at, ec);
    if (ec)
      return fail("dns-udp-service",
                  fmt::format("cannot serve DNS on {}:{}: {}", gw.to_string(), path_.dns_port, ec.message()));
    dns_sockets_.push_back(sock);
    if (auto r = services_.dns().serve_tcp_at(asio::ip::tcp::endpoint(gw, path_.dns_port)); !r)
      return unexpected(r.error());
  }
  return {};
}

result<void> kernel_gate::listen_transparent() {
  if (path_.proxy_port == 0 || (services_.settings().proxy == nullptr && !claim_mode_)) return {};
  for (const auto& gw : path_.gateways) {
    auto listener = open_transparent_listener(strand_, asio::ip::tcp::endpoint(gw, path_.proxy_port));
    if (!listener) return unexpected(listener.error());
    transparent_.push_back(std::move(*listener));
  }
  return {};
}

void kernel_gate::close_services() {
  asio::error_code ignored;
  queue_fd_.cancel(ignored);
  conntrack_fd_.cancel(ignored);
  if (first_bytes_fd_) first_bytes_fd_->cancel(ignored);
  for (auto& s : dns_sockets_) s->close(ignored);
  for (auto& a : transparent_) a->close(ignored);
  for (auto& w : spliced_)
    if (auto flow = w.lock()) flow->shutdown();
  spliced_.clear();
  close_claims();
  dialed_.clear();
}

asio::awaitable<void> kernel_gate::serve_dns_udp(std::shared_ptr<asio::ip::udp::socket> socket) {
  std::vector<std::byte> buf(max_dns_query);
  for (;;) {
    asio::ip::udp::endpoint from;
    auto [ec, n] = co_await socket->async_receive_from(asio::buffer(buf), from, use_tuple);
    if (ec == asio::error::operation_aborted || stopping_.load()) co_return;
    if (ec) continue;
    flow_key key;
    key.protocol = packet::proto_udp;
    key.src = from_asio(from.address());
    key.src_port = from.port();
    const auto local = socket->local_endpoint();
    key.dst = from_asio(local.address());
    key.dst_port = local.port();
    std::vector<std::byte> query(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
    services_.answer_dns_udp(key, std::move(query), [this, socket, from](std::vector<std::byte> reply) {
      asio::post(strand_, [socket, from, r = std::move(reply)] {  // the socket's strand
        asio::error_code ignored;
        socket->send_to(asio::buffer(r), from, 0, ignored);
      });
    });
  }
}

asio::awaitable<void> kernel_gate::accept_transparent(std::shared_ptr<asio::ip::tcp::acceptor> acceptor) {
  for (;;) {
    auto strand = asio::make_strand(ctx_.get_executor());
    auto [ec, socket] = co_await acceptor->async_accept(strand, use_tuple);
    if (ec == asio::error::operation_aborted || stopping_.load()) co_return;
    if (ec) {
      log::debug("transparent listener: {}", ec.message());
      continue;
    }
    asio::error_code lec, rec;
    const auto local = socket.local_endpoint(lec);   // where the tree meant to go
    const auto remote = socket.remote_endpoint(rec);  // the tree's socket
    if (lec || rec) continue;
    if (!from_tree(remote.address(), path_.gateways)) {  // reset at once
      socket.set_option(asio::socket_base::linger(true, 0), lec);
      socket.close(lec);
      continue;
    }
    flow_key key;
    key.protocol = packet::proto_tcp;
    key.src = from_asio(remote.address());
    key.src_port = remote.port();
    key.dst = from_asio(local.address());
    key.dst_port = local.port();
    std::shared_ptr<transparent_flow> flow;
    if (auto it = dialed_.find(key); it != dialed_.end()) {
      flow = std::move(it->second);
      dialed_.erase(it);
    } else if (claim_mode_ && (table_.awaiting_claim(key) || !table_.verdict_of(key))) {
      start_claim_flow(key, std::move(socket), strand);  // or never seen by the gate: judged there in full
      continue;
    } else {  // allowed by address in claim mode, or not seen by the gate as new (say, a tuple reused at once)
      flow = std::make_shared<transparent_flow>(services_, strand, key);
      flow->on_connect_failed([this, key](std::string_view end) {
        asio::post(strand_, [this, key, end] { failed_connects_[key] = end; });
      });
      spliced_.push_back(flow);
    }
    flow->attach(std::move(socket));
  }
}

}  // namespace netpen::relay
