// Parses one TLS ClientHello handshake message (RFC 8446 section 4.1.2,
// also the TLS 1.0-1.2 forms) for what it claims: the server_name
// (RFC 6066, host_name type), the ALPN list (RFC 7301) and whether it
// carries encrypted_client_hello (ECH, extension 0xfe0d: the SNI seen is
// then the outer, public name). GREASE values (RFC 8701) are tolerated
// everywhere and left out of the ALPN list. Every length is checked
// against its container; anything malformed gives no claim at all.
#pragma once
#include <cstdint>
#include <optional>
#include <span>

#include "net/sniff/claim.hpp"

namespace netpen::sniff {

inline constexpr std::uint8_t tls_handshake_client_hello = 1;
inline constexpr std::uint16_t tls_ext_server_name = 0;
inline constexpr std::uint16_t tls_ext_alpn = 16;
inline constexpr std::uint16_t tls_ext_encrypted_client_hello = 0xfe0d;

// A GREASE value of RFC 8701 (0x0a0a, 0x1a1a, ... 0xfafa).
constexpr bool is_grease(std::uint16_t v) { return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff); }

// `message` starts at the handshake header (type 1, 24-bit length) and
// holds at least the whole message (bytes after it are ignored). The claim
// has protocol `protocol` (tls or quic); nullopt when malformed. An SNI
// that is an IP literal leaves sni empty; one that is not a host name at
// all (bad bytes) makes the message malformed. ALPN names that are not
// printable ASCII are left out like GREASE.
std::optional<claim> parse_client_hello(std::span<const std::byte> message,
                                        claim_protocol protocol = claim_protocol::tls);

}  // namespace netpen::sniff
