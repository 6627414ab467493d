// Printing a proxy without its secrets (see proxy_config.hpp).
#include "net/proxy/proxy_config.hpp"

#include <fmt/format.h>

namespace netpen::proxy {

std::string_view scheme_name(scheme s) {
  switch (s) {
    case scheme::http: return "http";
    case scheme::https: return "https";
    case scheme::socks5: return "socks5";
    case scheme::socks5h: return "socks5h";
  }
  return "?";
}

bool speaks_http(scheme s) { return s == scheme::http || s == scheme::https; }

std::string display(const proxy_config& p) {
  const bool bracket = !p.host_is_name && p.host.find(':') != std::string::npos;
  const std::string host = bracket ? "[" + p.host + "]" : p.host;
  std::string userinfo;
  if (p.creds) userinfo = p.creds->password.empty() ? p.creds->user + "@" : p.creds->user + ":***@";
  return fmt::format("{}://{}{}:{}", scheme_name(p.kind), userinfo, host, p.port);
}

}  // namespace netpen::proxy
