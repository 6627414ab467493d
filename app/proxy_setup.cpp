// Proxy settings into a resolved proxy_config (see proxy_setup.hpp).
#include "app/proxy_setup.hpp"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <memory>

namespace netpen::app {
namespace {

proxy::scheme to_scheme(proxy_scheme s) {
  switch (s) {
    case proxy_scheme::http: return proxy::scheme::http;
    case proxy_scheme::https: return proxy::scheme::https;
    case proxy_scheme::socks5: return proxy::scheme::socks5;
    case proxy_scheme::socks5h: return proxy::scheme::socks5h;
  }
  return proxy::scheme::http;
}

result<std::vector<asio::ip::tcp::endpoint>> resolve(const std::string& host, std::uint16_t port) {
  std::vector<asio::ip::tcp::endpoint> out;
  asio::error_code ec;
  const auto literal = asio::ip::make_address(host, ec);
  if (!ec) {
    out.emplace_back(literal, port);
    return out;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* list = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &list);
  if (rc != 0)
    return fail("proxy-resolve", "cannot resolve the proxy host '" + host + "': " + ::gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owner(list, &::freeaddrinfo);
  for (const addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    asio::ip::tcp::endpoint ep;
    if (ai->ai_addrlen > ep.capacity()) continue;
    std::memcpy(ep.data(), ai->ai_addr, ai->ai_addrlen);
    ep.port(port);
    if (std::find(out.begin(), out.end(), ep) == out.end()) out.push_back(ep);
  }
  if (out.empty()) return fail("proxy-resolve", "the proxy host '" + host + "' has no address");
  return out;
}

}  // namespace

result<proxy::proxy_config> make_proxy_config(const run_config& cfg) {
  proxy::proxy_config p;
  p.kind = to_scheme(cfg.proxy->scheme);
  p.host = cfg.proxy->host;
  asio::error_code ec;
  (void)asio::ip::make_address(p.host, ec);
  p.host_is_name = static_cast<bool>(ec);
  p.port = cfg.proxy->port;
  p.insecure = cfg.proxy_insecure;
  if (cfg.proxy_user) p.creds = proxy::credentials{*cfg.proxy_user, cfg.proxy_password.value_or("")};
  auto endpoints = resolve(p.host, p.port);
  if (!endpoints) return unexpected<error>(endpoints.error());
  p.endpoints = std::move(*endpoints);
  return p;
}

}  // namespace netpen::app
