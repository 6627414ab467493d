// [relay] connect_host against loopback sockets: a listening port connects
// (and the socket is left non-blocking, as the relay reads it), a closed
// port is refused, and cancelling the socket ends a pending connect with
// operation_aborted. Nothing leaves the machine.
#include <catch2/catch.hpp>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/use_future.hpp>

#include <chrono>

#include "net/relay/host_connect.hpp"

using netpen::relay::connect_host;

namespace {

asio::error_code run_connect(asio::io_context& ctx, asio::ip::tcp::socket& s, const asio::ip::tcp::endpoint& to) {
  auto f = asio::co_spawn(ctx, connect_host(s, to), asio::use_future);
  ctx.run_for(std::chrono::seconds(5));
  REQUIRE(f.wait_for(std::chrono::seconds(0)) == std::future_status::ready);
  return f.get();
}

}  // namespace

TEST_CASE("connect_host connects to a listener and leaves the socket non-blocking", "[relay]") {
  asio::io_context ctx;
  asio::ip::tcp::acceptor listener(ctx, asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  asio::ip::tcp::socket s(ctx);
  s.open(asio::ip::tcp::v4());
  const auto ec = run_connect(ctx, s, listener.local_endpoint());
  CHECK_FALSE(ec);
  CHECK(s.non_blocking());
  asio::error_code peer_ec;
  CHECK(s.remote_endpoint(peer_ec) == listener.local_endpoint());
}

TEST_CASE("connect_host reports a refused connection", "[relay]") {
  asio::io_context ctx;
  asio::ip::tcp::endpoint closed;
  {
    // A port that was just free: bound, then closed without listening.
    asio::ip::tcp::acceptor probe(ctx, asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    closed = probe.local_endpoint();
  }
  asio::ip::tcp::socket s(ctx);
  s.open(asio::ip::tcp::v4());
  CHECK(run_connect(ctx, s, closed) == asio::error::connection_refused);
}

TEST_CASE("connect_host ends with operation_aborted when the socket is cancelled", "[relay]") {
  asio::io_context ctx;
  // A listener with a full backlog: further SYNs are dropped, so the
  // connect stays in progress until it is cancelled.
  asio::ip::tcp::acceptor listener(ctx);
  listener.open(asio::ip::tcp::v4());
  listener.bind(asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  listener.listen(0);
  std::vector<asio::ip::tcp::socket> fillers;
  for (int i = 0; i < 4; ++i) {
    fillers.emplace_back(ctx);
    fillers.back().open(asio::ip::tcp::v4());
    fillers.back().non_blocking(true);
    asio::error_code ignored;
    fillers.back().connect(listener.local_endpoint(), ignored);
  }
  asio::ip::tcp::socket s(ctx);
  s.open(asio::ip::tcp::v4());
  auto f = asio::co_spawn(ctx, connect_host(s, listener.local_endpoint()), asio::use_future);
  ctx.run_for(std::chrono::milliseconds(200));
  if (f.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
    WARN("the kernel accepted the connect despite the full backlog; cancellation not exercised");
    return;
  }
  s.cancel();
  ctx.restart();
  ctx.run_for(std::chrono::seconds(5));
  REQUIRE(f.wait_for(std::chrono::seconds(0)) == std::future_status::ready);
  CHECK(f.get() == asio::error::operation_aborted);
}
