// The pieces of a QUIC client Initial packet (RFC 9000 section 17.2.2,
// RFC 9001 section 5; QUIC v2 per RFC 9369) a sniffer needs, as pure
// functions over untrusted bytes: the long header, the Initial keys
// derived from the client's first Destination Connection ID, header
// protection and AEAD removal, the frames up to CRYPTO, and the CRYPTO
// stream put back in order. OpenSSL's libcrypto does HMAC-SHA256 (HKDF),
// AES-128-ECB (header protection) and AES-128-GCM.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace netpen::sniff {

inline constexpr std::uint32_t quic_version_1 = 0x00000001;
inline constexpr std::uint32_t quic_version_2 = 0x6b3343cf;

struct quic_initial_keys {
  std::array<std::byte, 16> key{};
  std::array<std::byte, 12> iv{};
  std::array<std::byte, 16> hp{};
};

// The client's Initial keys for `version` (v1 or v2) and the Destination
// Connection ID of its first Initial; nullopt for another version.
std::optional<quic_initial_keys> client_initial_keys(std::uint32_t version, std::span<const std::byte> dcid);

// HKDF-Expand-Label (RFC 8446 section 7.1) with SHA-256 and an empty
// context; length at most 32.
std::vector<std::byte> hkdf_expand_label(std::span<const std::byte> secret, std::string_view label,
                                         std::size_t length);

// A long-header packet at the front of a datagram.
struct quic_long_header {
  std::uint32_t version = 0;
  bool initial = false;                 // an Initial of v1 or v2
  std::span<const std::byte> dcid;
  std::size_t packet_number_offset = 0;  // where the protected packet number starts
  std::size_t size = 0;                  // the packet's bytes in the datagram (coalesced packets follow)
};

// nullopt for a short header, a Retry or Version Negotiation packet, an
// unknown version's packet, or bytes that do not hold a whole long header
// and its Length.
std::optional<quic_long_header> read_long_header(std::span<const std::byte> datagram);

// The 5 header-protection mask bytes for a 16-byte sample.
std::array<std::byte, 5> header_protection_mask(const std::array<std::byte, 16>& hp, std::span<const std::byte, 16> sample);

// Removes header protection and the AEAD from `packet` (exactly header.size
// bytes): the plaintext frames, or nullopt when it does not authenticate.
std::optional<std::vector<std::byte>> open_initial(std::span<const std::byte> packet, const quic_long_header& header,
                                                   const quic_initial_keys& keys);

// The CRYPTO stream of the Initial space, reassembled by offset (frames
// may come in any order, repeat or overlap), bounded by max_size.
class quic_crypto_stream {
 public:
  static constexpr std::size_t max_size = 16 * 1024;
  // false when the data lies beyond max_size.
  bool add(std::uint64_t offset, std::span<const std::byte> data);
  // The stream from offset 0 as far as it is contiguous.
  std::span<const std::byte> contiguous() const { return std::span<const std::byte>(data_).first(contiguous_); }

 private:
  std::vector<std::byte> data_;
  std::vector<bool> have_;
  std::size_t contiguous_ = 0;
};

// Walks the frames of an Initial's plaintext (PADDING, PING, ACK, CRYPTO;
// it stops quietly at any other frame, which cannot be skipped safely) and
// adds the CRYPTO data to `stream`. false when a frame is malformed or
// CRYPTO data lies beyond the stream's bound.
bool read_crypto_frames(std::span<const std::byte> plaintext, quic_crypto_stream& stream);

}  // namespace netpen::sniff
