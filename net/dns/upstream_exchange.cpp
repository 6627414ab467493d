// Single upstream exchanges over UDP and TCP (see upstream_exchange.hpp).
// GCC 12 reports a false -Wnull-dereference inside Asio's scheduler when it
// inlines it here; the warning is about Asio's code, not ours.
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include "net/dns/upstream_exchange.hpp"

#include <fmt/format.h>

#include <array>
#include "net/common/asio_helpers.hpp"
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>
#include <asio/post.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <variant>

namespace netpen::dns {
namespace {

using namespace asio::experimental::awaitable_operators;

unexpected<error> upstream_failed(const upstream_server& s, std::string_view what) {
  return fail("dns-upstream", fmt::format("DNS server {}: {}", to_string(s), what));
}

// A cancel hook closing `sock` on its own executor.
template <class Socket>
std::function<void()> closer(const std::shared_ptr<Socket>& sock) {
  return [weak = std::weak_ptr<Socket>(sock), ex = sock->get_executor()] {
    asio::post(ex, [weak] {
      if (auto s = weak.lock()) {
        std::error_code ignored;
        s->close(ignored);
      }
    });
  };
}

asio::awaitable<result<bytes>> tcp_body(std::shared_ptr<asio::ip::tcp::socket> sock,
                                        upstream_server server, bytes query) {
  const asio::ip::tcp::endpoint ep(server.address, server.port);
  auto [cec] = co_await sock->async_connect(ep, use_tuple);
  if (cec) co_return upstream_failed(server, cec.message());
  auto framed = frame_for_tcp(query);
  if (!framed) co_return unexpected(framed.error());
  auto [wec, wn] = co_await asio::async_write(*sock, asio::buffer(*framed), use_tuple);
  if (wec) co_return upstream_failed(server, wec.message());
  std::array<std::byte, 2> len{};
  for (;;) {
    auto [lec, ln] = co_await asio::async_read(*sock, asio::buffer(len), use_tuple);
    if (lec) co_return upstream_failed(server, lec.message());
    bytes reply(static_cast<std::size_t>(std::to_integer<unsigned>(len[0]) << 8 |
                                         std::to_integer<unsigned>(len[1])));
    auto [rec, rn] = co_await asio::async_read(*sock, asio::buffer(reply), use_tuple);
    if (rec) co_return upstream_failed(server, rec.message());
    if (reply_matches(query, reply)) co_return reply;
  }
}

}  // namespace

bool reply_matches(byte_view query, byte_view reply) {
  auto qh = parse_header(query);
  auto rh = parse_header(reply);
  if (!qh || !rh || rh->id != qh->id || !rh->is_response()) return false;
  if (rh->qdcount == 0) return true;
  auto q = parse_query(query);
  auto r = parse_query(reply);
  if (!q || !r) return false;
  return q->q.qtype == r->q.qtype && q->q.qclass == r->q.qclass &&
         same_name(q->q.qname.wire, r->q.qname.wire);
}

asio::awaitable<result<bytes>> exchange_udp(upstream_server server, bytes query,
                                            std::chrono::milliseconds timeout,
                                            std::shared_ptr<work_registry> registry) {
  auto ex = co_await asio::this_coro::executor;
  auto sock = std::make_shared<asio::ip::udp::socket>(ex);
  auto ticket = registry->enroll(closer(sock));
  if (!ticket) co_return fail("dns-stopped", "DNS forwarder stopped");
  const asio::ip::udp::endpoint ep(server.address, server.port);
  std::error_code ec;
  sock->open(ep.protocol(), ec);
  if (!ec) sock->connect(ep, ec);  // connected: only the server's datagrams arrive
  if (ec) co_return upstream_failed(server, ec.message());
  asio::steady_timer timer(ex);
  timer.expires_after(timeout);
  auto [sec, sn] = co_await sock->async_send(asio::buffer(query), use_tuple);
  if (sec) co_return upstream_failed(server, sec.message());
  bytes reply(max_message);
  for (;;) {
    auto r = co_await (sock->async_receive(asio::buffer(reply), use_tuple) ||
                       timer.async_wait(use_tuple));
    if (r.index() == 1) co_return upstream_failed(server, "timed out");
    auto [rec, n] = std::get<0>(r);
    if (rec) co_return upstream_failed(server, rec.message());
    if (reply_matches(query, byte_view(reply).first(n))) {
      reply.resize(n);
      co_return reply;
    }
  }
}

asio::awaitable<result<bytes>> exchange_tcp(upstream_server server, bytes query,
                                            std::chrono::milliseconds timeout,
                                            std::shared_ptr<work_registry> registry) {
  auto ex = co_await asio::this_coro::executor;
  auto sock = std::make_shared<asio::ip::tcp::socket>(ex);
  auto ticket = registry->enroll(closer(sock));
  if (!ticket) co_return fail("dns-stopped", "DNS forwarder stopped");
  asio::steady_timer timer(ex);
  timer.expires_after(timeout);
  auto r = co_await (tcp_body(sock, server, std::move(query)) || timer.async_wait(use_tuple));
  if (r.index() == 1) co_return upstream_failed(server, "timed out");
  co_return std::move(std::get<0>(r));
}

}  // namespace netpen::dns
