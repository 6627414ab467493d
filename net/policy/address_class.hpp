// IP address facts the policy needs: literals, prefix tests, IPv4-mapped
// IPv6 unwrapping, the --block-private and --block-metadata address classes,
// and the well-known encrypted-DNS resolvers (DoH/DoT/DoQ bypass name policy,
// so the relay warns about them). Pure: no I/O.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "net/packet/frame.hpp"

namespace netpen::policy {

// An IPv4 or IPv6 literal (no brackets, no prefix), or nullopt.
std::optional<packet::ip_address> parse_ip(std::string_view text);

// Whether ip lies in network/length (same family; length in bits).
bool in_prefix(const packet::ip_address& ip, const packet::ip_address& network, unsigned length);

// ip with every bit after the first `length` cleared.
packet::ip_address network_of(packet::ip_address ip, unsigned length);

// ::ffff:a.b.c.d as the IPv4 address a.b.c.d; any other address unchanged.
bool is_v4_mapped(const packet::ip_address& ip);
packet::ip_address unmapped(const packet::ip_address& ip);

// --block-private: 0/8, 10/8, 100.64/10, 127/8, 169.254/16, 172.16/12,
// 192.168/16, ::, ::1, fc00::/7, fe80::/10, and IPv4-mapped forms of the IPv4 ones.
bool is_private(const packet::ip_address& ip);

// --block-metadata: 169.254.169.254 (and its IPv4-mapped form), fd00:ec2::254.
bool is_metadata(const packet::ip_address& ip);

// A description such as "Cloudflare DNS over HTTPS" when ip:port over
// `protocol` (packet::proto_tcp / proto_udp) looks like encrypted DNS:
// port 853 to anything (TCP: DNS over TLS, UDP: DNS over QUIC), or port 443
// to a well-known public resolver (TCP: DoH, UDP: DoH over HTTP/3).
std::optional<std::string> encrypted_dns_endpoint(const packet::ip_address& ip, std::uint16_t port,
                                                  std::uint8_t protocol);

}  // namespace netpen::policy
