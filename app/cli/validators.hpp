// Value syntax checks for the command line: IP literals, ports, resolver
// endpoints, proxy URIs, port lists, paths. Each returns the parsed value or
// an error whose message starts with the flag name.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/run_config.hpp"
#include "net/common/error.hpp"

namespace netpen::app::cli {

// Plain checks (no flag names involved).
bool is_ipv4(std::string_view text);
bool is_ipv6(std::string_view text);
// A DNS name: dot-separated labels of letters, digits, '-' and '_' (1-63
// chars, no leading/trailing '-'), at most 253 chars, last label not numeric.
// One trailing dot is accepted.
bool is_domain_name(std::string_view text);
// Decimal 1-65535, digits only.
std::optional<std::uint16_t> parse_port(std::string_view text);
std::string to_lower(std::string_view text);
std::string_view trim(std::string_view text);
// The items of a comma-separated list, each trimmed (empty items kept, so
// callers can reject them with their own message).
std::vector<std::string_view> split_list(std::string_view text);

// An error with code "bad-value" and message "<flag>: <detail>".
unexpected<error> bad_value(std::string_view flag, std::string_view detail);

// Flag-level validators.
result<endpoint_spec> parse_dns_endpoint(std::string_view flag, std::string_view text);
result<proxy_spec> parse_proxy_uri(std::string_view flag, std::string_view text);
// The URI with its password (if any) replaced by "***", for messages.
std::string redact_proxy_uri(std::string_view text);
// --host-port: "8080,1080", "9000-9010", "udp/53", "udp/5000-5010", "tcp/80"
// (comma lists; no prefix: TCP). Port 0, reversed ranges, junk are errors.
result<std::vector<port_range>> parse_port_list(std::string_view flag, std::string_view text);
// The most ports --host-port may name in all (each costs listening sockets).
inline constexpr std::size_t max_host_ports = 256;
result<unsigned> parse_positive_seconds(std::string_view flag, std::string_view text);
// Reads a whole file; the error names the flag, the path and the OS reason.
result<std::string> read_file_for(std::string_view flag, const std::string& path);
// The file's parent directory must exist (the file itself is created later).
result<void> check_output_path(std::string_view flag, const std::string& path);

}  // namespace netpen::app::cli
