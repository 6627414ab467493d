// Parsing and printing of upstream resolver addresses (see upstream.hpp).
#include "net/dns/upstream.hpp"

#include <fmt/format.h>

#include <charconv>

namespace netpen::dns {
namespace {

unexpected<error> bad(std::string_view text, std::string_view why) {
  return fail("bad-dns-server", fmt::format("invalid DNS server '{}': {}", text, why));
}

bool parse_port(std::string_view s, std::uint16_t& port) {
  unsigned value = 0;
  if (s.empty() || s.size() > 5) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || ptr != s.data() + s.size() || value == 0 || value > 65535) return false;
  port = static_cast<std::uint16_t>(value);
  return true;
}

}  // namespace

result<upstream_server> parse_upstream(std::string_view text) {
  upstream_server out;
  std::string_view host = text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return bad(text, "missing ']'");
    host = text.substr(1, close - 1);
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':' || !parse_port(rest.substr(1), out.port))
        return bad(text, "expected ':port' (1-65535) after ']'");
    }
  } else if (text.find(':') == text.rfind(':') && text.find(':') != std::string_view::npos) {
    // Exactly one colon: IPv4:port.
    const auto colon = text.find(':');
    host = text.substr(0, colon);
    if (!parse_port(text.substr(colon + 1), out.port)) return bad(text, "port must be 1-65535");
  }
  std::error_code ec;
  out.address = asio::ip::make_address(std::string(host), ec);
  if (ec) return bad(text, "not an IPv4 or IPv6 address");
  if (text.front() == '[' && !out.address.is_v6()) return bad(text, "brackets are for IPv6 addresses");
  return out;
}

std::string to_string(const upstream_server& s) {
  if (s.address.is_v6()) return fmt::format("[{}]:{}", s.address.to_string(), s.port);
  return fmt::format("{}:{}", s.address.to_string(), s.port);
}

}  // namespace netpen::dns
