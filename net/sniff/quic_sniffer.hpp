// Sniffs the SNI and ALPN of a QUIC v1 client's Initial packets (RFC 9000,
// RFC 9001): the Initial keys are derived from the Destination Connection
// ID and the version's public salt, the header protection and the AEAD are
// removed, and the CRYPTO frames are put back in order (a ClientHello may
// span several Initial packets and datagrams) and given to the same
// ClientHello parser as TLS over TCP. Sans-I/O; OpenSSL's libcrypto does
// the AES and HKDF.
//
// Feed the client's datagrams of one flow in order; `done` once the
// ClientHello is complete or the flow cannot be a QUIC v1 Initial (another
// version, a short header, a packet that does not decrypt, max_datagrams
// seen). A datagram may hold several coalesced QUIC packets.
//
// Inside: the keys come from the first Initial's Destination Connection ID
// and serve every later Initial (a client keeps them when it switches to
// the server's connection ID); the CRYPTO stream is bounded by
// quic_crypto_stream::max_size. QUIC v2 (RFC 9369) Initials are read too.
#pragma once
#include <cstddef>
#include <optional>
#include <cstdint>
#include <span>
#include <vector>

#include "net/sniff/claim.hpp"
#include "net/sniff/quic_initial.hpp"

namespace netpen::sniff {

class quic_sniffer {
 public:
  enum class state { need_more, done };
  static constexpr std::size_t max_datagrams = 4;

  state feed(std::span<const std::byte> datagram);
  state current() const { return state_; }
  // protocol quic with the SNI/ALPN once found; none otherwise.
  const claim& result() const { return claim_; }

 private:
  state state_ = state::need_more;
  std::size_t datagrams_ = 0;
  void read_packets(std::span<const std::byte> datagram);
  void read_client_hello();
  void finish() { state_ = state::done; }

  std::optional<quic_initial_keys> keys_;
  std::uint32_t version_ = 0;
  quic_crypto_stream crypto_;  // the CRYPTO stream, reassembled by offset
  claim claim_;
};

}  // namespace netpen::sniff
