// The upstream proxy a run sends the tree's TCP through (-p/--proxy): its
// scheme, where it is (resolved on the host side, before the run), and the
// credentials. display() is the only way it is printed: the password never
// appears in any output.
#pragma once
#include <asio/ip/tcp.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/proxy/credentials.hpp"

namespace netpen::proxy {

enum class scheme { http, https, socks5, socks5h };

struct proxy_config {
  scheme kind = scheme::http;
  std::string host;                                 // name or literal, no brackets
  bool host_is_name = false;                        // for SNI and the certificate name check
  std::uint16_t port = 0;
  std::vector<asio::ip::tcp::endpoint> endpoints;   // host resolved, tried in order
  std::optional<credentials> creds;
  bool insecure = false;                            // https: skip chain trust, keep the name check
};

std::string_view scheme_name(scheme s);
bool speaks_http(scheme s);  // CONNECT: http and https
// "socks5h://alice:***@proxy.example:1080", "http://[2001:db8::1]:3128".
std::string display(const proxy_config& p);

}  // namespace netpen::proxy
