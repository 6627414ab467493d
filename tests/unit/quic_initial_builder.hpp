// Builds protected QUIC client Initial packets (RFC 9000 section 17.2.2,
// RFC 9001 section 5) for the sniffer tests and the test client
// tests/tools/quic_client.cpp: CRYPTO frames carrying a ClientHello,
// PADDING up to the datagram size a client must send (1200 bytes), AEAD
// sealing with AES-128-GCM and header protection. The Initial keys come
// from net/sniff/quic_initial.hpp (checked against RFC 9001 Appendix A on
// their own); the sealing here is independent of the sniffer's opening.
#pragma once
#include <openssl/evp.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <vector>

#include "net/sniff/quic_initial.hpp"

namespace quic_test {

using bytes = std::vector<std::byte>;

inline void put_varint(bytes& b, std::uint64_t v) {
  if (v < 64) {
    b.push_back(static_cast<std::byte>(v));
  } else if (v < 16384) {
    b.push_back(static_cast<std::byte>(0x40 | (v >> 8)));
    b.push_back(static_cast<std::byte>(v & 0xff));
  } else {
    for (int i = 3; i >= 0; --i) b.push_back(static_cast<std::byte>(((i == 3 ? 0x80u : 0u) | (v >> (8 * i))) & 0xff));
  }
}

// A CRYPTO frame with `data` at `offset` of the Initial's crypto stream.
inline bytes crypto_frame(std::uint64_t offset, std::span<const std::byte> data) {
  bytes f{std::byte{0x06}};
  put_varint(f, offset);
  put_varint(f, data.size());
  f.insert(f.end(), data.begin(), data.end());
  return f;
}

struct initial_spec {
  std::uint32_t version = netpen::sniff::quic_version_1;
  bytes dcid = bytes(8, std::byte{0x5a});  // the connection ID the keys derive from
  bytes packet_dcid;                        // the DCID the header carries (default: dcid)
  bytes scid = bytes(4, std::byte{0xc1});
  std::uint32_t packet_number = 0;
  std::size_t pad_to = 1200;  // the packet's total size (0: no padding beyond what sampling needs)
};

inline void seal_gcm(const netpen::sniff::quic_initial_keys& k, std::span<const std::byte, 12> nonce,
                     std::span<const std::byte> aad, bytes& payload) {
  auto* ctx = EVP_CIPHER_CTX_new();
  auto u8 = [](const std::byte* p) { return reinterpret_cast<const unsigned char*>(p); };
  int len = 0;
  bytes out(payload.size() + 16);
  bool ok = EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), nullptr, u8(k.key.data()), u8(nonce.data())) == 1 &&
            EVP_EncryptUpdate(ctx, nullptr, &len, u8(aad.data()), static_cast<int>(aad.size())) == 1 &&
            EVP_EncryptUpdate(ctx, reinterpret_cast<unsigned char*>(out.data()), &len, u8(payload.data()),
                              static_cast<int>(payload.size())) == 1 &&
            EVP_EncryptFinal_ex(ctx, reinterpret_cast<unsigned char*>(out.data()) + len, &len) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, out.data() + payload.size()) == 1;
  EVP_CIPHER_CTX_free(ctx);
  if (!ok) throw std::runtime_error("AES-GCM seal failed");
  payload = std::move(out);
}

// One protected Initial packet carrying `frames` (PADDING appended up to
// spec.pad_to bytes), with a 2-byte packet number.
inline bytes initial_packet(const bytes& frames, const initial_spec& spec) {
  const auto keys = netpen::sniff::client_initial_keys(spec.version, spec.dcid).value();
  const unsigned type = spec.version == netpen::sniff::quic_version_2 ? 1 : 0;
  const bytes& dcid = spec.packet_dcid.empty() ? spec.dcid : spec.packet_dcid;
  bytes header{static_cast<std::byte>(0xc0 | (type << 4) | 0x01)};
  for (int i = 3; i >= 0; --i) header.push_back(static_cast<std::byte>((spec.version >> (8 * i)) & 0xff));
  header.push_back(static_cast<std::byte>(dcid.size()));
  header.insert(header.end(), dcid.begin(), dcid.end());
  header.push_back(static_cast<std::byte>(spec.scid.size()));
  header.insert(header.end(), spec.scid.begin(), spec.scid.end());
  header.push_back(std::byte{0});  // no token
  bytes payload = frames;
  const std::size_t fixed = header.size() + 2 + 2 + 16;  // + Length (2) + packet number (2) + tag
  if (spec.pad_to > fixed + payload.size()) payload.resize(spec.pad_to - fixed, std::byte{0});
  if (payload.size() < 20) payload.resize(20, std::byte{0});  // room for the header-protection sample
  const std::size_t length = 2 + payload.size() + 16;
  header.push_back(static_cast<std::byte>(0x40 | (length >> 8)));
  header.push_back(static_cast<std::byte>(length & 0xff));
  const std::size_t pn_offset = header.size();
  header.push_back(static_cast<std::byte>((spec.packet_number >> 8) & 0xff));
  header.push_back(static_cast<std::byte>(spec.packet_number & 0xff));
  std::array<std::byte, 12> nonce = keys.iv;
  nonce[10] ^= header[pn_offset];
  nonce[11] ^= header[pn_offset + 1];
  seal_gcm(keys, nonce, header, payload);
  bytes packet = header;
  packet.insert(packet.end(), payload.begin(), payload.end());
  const auto mask =
      netpen::sniff::header_protection_mask(keys.hp, std::span<const std::byte>(packet).subspan(pn_offset + 4).first<16>());
  packet[0] ^= mask[0] & std::byte{0x0f};
  packet[pn_offset] ^= mask[1];
  packet[pn_offset + 1] ^= mask[2];
  return packet;
}

// The datagram a client sends first: one Initial with the whole ClientHello
// (`client_hello`: the handshake message), padded to 1200 bytes.
inline bytes initial_datagram(std::span<const std::byte> client_hello, const initial_spec& spec = {}) {
  return initial_packet(crypto_frame(0, client_hello), spec);
}

}  // namespace quic_test
