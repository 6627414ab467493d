// The proxy handshake driver (see handshake.hpp).
#include "net/proxy/handshake.hpp"

#include <asio/buffer.hpp>
#include <asio/ssl/error.hpp>

#include <array>

#include "net/common/asio_helpers.hpp"
#include "net/proxy/http_connect.hpp"
#include "net/proxy/socks5.hpp"
#include "net/proxy/tls_setup.hpp"

namespace netpen::proxy {
namespace {

using bytes = std::vector<std::byte>;

std::string io_failure(const asio::error_code& ec, const char* during) {
  if (ec == asio::error::eof) return std::string("the proxy closed the connection ") + during;
  if (ec == asio::error::operation_aborted) return std::string("the proxy did not answer in time ") + during;
  return std::string("proxy I/O failed ") + during + ": " + ec.message();
}

asio::awaitable<result<void>> start_tls(host_io::host_stream& stream, const proxy_config& proxy,
                                        asio::ssl::context* ctx) {
  if (ctx == nullptr) co_return fail("proxy-tls", "no TLS context for an https proxy");
  auto& tls = stream.start_tls(*ctx);
  if (auto ok = expect_peer(tls.native_handle(), proxy.host, proxy.host_is_name); !ok) co_return unexpected<error>(ok.error());
  auto [ec] = co_await tls.async_handshake(asio::ssl::stream_base::client, use_tuple);
  if (ec) {
    std::string why = verify_failure(tls.native_handle());
    if (why.empty()) why = ec.message();
    co_return fail("proxy-tls", "TLS with the proxy failed: " + why);
  }
  co_return result<void>{};
}

asio::awaitable<result<bytes>> http_connect(host_io::host_stream& stream, const proxy_config& proxy,
                                            const connect_target& target) {
  const std::string request = build_connect_request(target, proxy.creds);
  auto [wec, wn] = co_await stream.write_all(asio::buffer(request));
  if (wec) co_return fail("proxy-io", io_failure(wec, "before the CONNECT was sent"));
  connect_response_parser parser;
  std::array<std::byte, 4096> buf{};
  for (;;) {
    auto [ec, n] = co_await stream.read_some(asio::buffer(buf));
    if (n > 0) {
      const auto st = parser.feed(std::span<const std::byte>(buf.data(), n));
      if (st == connect_response_parser::status::done) {
        if (!parser.success()) co_return fail("proxy-refused", parser.describe());
        const auto rest = parser.leftover();
        co_return bytes(rest.begin(), rest.end());
      }
      if (st == connect_response_parser::status::failed) co_return fail("proxy-protocol", parser.describe());
    }
    if (ec) co_return fail("proxy-io", io_failure(ec, "before answering the CONNECT"));
  }
}

asio::awaitable<result<bytes>> socks5_connect(host_io::host_stream& stream, const proxy_config& proxy,
                                              const connect_target& target) {
  socks5_client client(target, proxy.creds);
  std::array<std::byte, 1024> buf{};
  for (;;) {
    const bytes out = client.take_output();
    if (client.current() == socks5_client::status::failed) co_return fail("proxy-refused", client.error());
    if (!out.empty()) {
      auto [wec, wn] = co_await stream.write_all(asio::buffer(out));
      if (wec) co_return fail("proxy-io", io_failure(wec, "during the SOCKS5 handshake"));
    }
    auto [ec, n] = co_await stream.read_some(asio::buffer(buf));
    if (n > 0) {
      const auto st = client.feed(std::span<const std::byte>(buf.data(), n));
      if (st == socks5_client::status::done) {
        const auto rest = client.leftover();
        co_return bytes(rest.begin(), rest.end());
      }
      if (st == socks5_client::status::failed) co_return fail("proxy-refused", client.error());
      continue;  // more to send or to read
    }
    if (ec) co_return fail("proxy-io", io_failure(ec, "during the SOCKS5 handshake"));
  }
}

}  // namespace

asio::awaitable<result<bytes>> handshake(host_io::host_stream& stream, const proxy_config& proxy,
                                         asio::ssl::context* tls, const connect_target& target) {
  if (proxy.kind == scheme::https) {
    auto ok = co_await start_tls(stream, proxy, tls);
    if (!ok) co_return unexpected<error>(ok.error());
  }
  if (speaks_http(proxy.kind)) co_return co_await http_connect(stream, proxy, target);
  co_return co_await socks5_connect(stream, proxy, target);
}

}  // namespace netpen::proxy
