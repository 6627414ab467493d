// An upstream DNS resolver address (`--dns IP[:port]` or a host resolv.conf
// nameserver) and the parser for the `--dns` value forms: IP, IPv4:port,
// [IPv6]:port, bare IPv6 (optionally with %scope).
#pragma once
#include <asio/ip/address.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include "net/common/error.hpp"

namespace netpen::dns {

struct upstream_server {
  asio::ip::address address;
  std::uint16_t port = 53;

  friend bool operator==(const upstream_server&, const upstream_server&) = default;
};

// "IP", "IPv4:port", "[IPv6]:port" or "IPv6". Errors name the bad value.
result<upstream_server> parse_upstream(std::string_view text);

// "1.2.3.4:53" / "[::1]:53" for messages.
std::string to_string(const upstream_server& s);

}  // namespace netpen::dns
