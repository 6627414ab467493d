// The proxy handshake as an awaitable task: on a host_stream already
// connected to the proxy, optional TLS (https://), then HTTP CONNECT or
// SOCKS5 (with auth when credentials are given) for `target`. The codecs
// (http_connect, socks5) decide; this file only moves their bytes.
// Returns the tunnel bytes the proxy sent past its answer (usually none),
// or an error whose message says why, for the user (never the password).
// The caller bounds the time (cancelling the socket ends every step).
#pragma once
#include <asio/awaitable.hpp>
#include <asio/ssl/context.hpp>

#include <cstddef>
#include <vector>

#include "net/common/error.hpp"
#include "net/host_io/host_stream.hpp"
#include "net/proxy/connect_target.hpp"
#include "net/proxy/proxy_config.hpp"

namespace netpen::proxy {

// `tls` is required for scheme::https and ignored otherwise.
asio::awaitable<result<std::vector<std::byte>>> handshake(host_io::host_stream& stream, const proxy_config& proxy,
                                                          asio::ssl::context* tls, const connect_target& target);

}  // namespace netpen::proxy
