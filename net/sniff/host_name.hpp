// Normalises the host names the sniffers find (TLS server_name, HTTP Host):
// lowercase, no trailing dot, only the characters of DNS names; an IP
// literal names no host. Pure functions.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace netpen::sniff {

// The host name in canonical form; "" for an IPv4 or IPv6 literal (the
// address, not a name, is what such a connection claims); nullopt when the
// text is not a host name at all (empty, too long, a byte outside letters,
// digits, '-', '_' and '.', an empty label).
std::optional<std::string> normalize_host_name(std::string_view text);

// True for an IPv4 dotted quad or an IPv6 address (without brackets).
bool is_ip_literal(std::string_view text);

}  // namespace netpen::sniff
