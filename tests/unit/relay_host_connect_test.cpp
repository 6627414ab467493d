// [relay] connect_host against loopback sockets: a listening port connects
// (and the socket is left non-blocking, as the relay reads it) and a closed
// port is refused. Nothing leaves the machine. (A cancelled wait ends with
// Asio's operation_aborted, as async_connect's did.)
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
