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
#pragma once
#include <cstddef>
#include <span>
#include <vector>

#include "net/sniff/claim.hpp"

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
  std::vector<std::byte> crypto_;  // the CRYPTO stream from offset 0, as far as contiguous
  claim claim_;
};

}  // namespace netpen::sniff
