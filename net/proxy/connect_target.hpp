// Owns the destination a proxy is asked to connect to (a DNS name when known,
// always the numeric address, the port) and its text forms for requests and
// messages. Shared by the HTTP CONNECT and SOCKS5 codecs.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace netpen::proxy {

struct connect_target {
  std::optional<std::string> name;          // DNS name when known (preferred in requests)
  std::array<std::uint8_t, 16> address{};   // IPv4 in the first 4 bytes when !v6
  bool v6 = false;
  std::uint16_t port = 0;
};

inline constexpr std::size_t max_target_name = 255;  // SOCKS5 length byte; also DNS's limit

// True for a name a proxy request may carry verbatim: 1..255 bytes of
// letters, digits, '-', '_' and '.' (IDNs go as punycode). Anything else
// (spaces, CR/LF, ':', '/', '@', NUL, ...) could smuggle syntax into a request.
bool valid_target_name(std::string_view name);

// Why `t` cannot be sent as is (a name that is present but not valid, with
// the reason), or nullopt when it can.
std::optional<std::string> target_problem(const connect_target& t);

// The name when present and valid, else the address: "203.0.113.10" or the
// bracketed "[2001:db8::1]". Never returns anything unsafe in a request line.
std::string host_for_request(const connect_target& t);

// The address only, v6 without brackets (RFC 5952 form: lowercase, longest
// zero run as "::", IPv4-mapped as "::ffff:192.0.2.1").
std::string address_text(const connect_target& t);

}  // namespace netpen::proxy
