// QUIC Initial packet protection and frames (see quic_initial.hpp).
#include "net/sniff/quic_initial.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <memory>
#include <string>

#include "net/sniff/byte_reader.hpp"

namespace netpen::sniff {
namespace {

constexpr std::array<std::uint8_t, 20> salt_v1 = {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
                                                  0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a};
constexpr std::array<std::uint8_t, 20> salt_v2 = {0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
                                                  0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9};
constexpr std::size_t aead_tag = 16;
constexpr std::size_t sample_size = 16;

using cipher_ctx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

const unsigned char* u8(const std::byte* p) { return reinterpret_cast<const unsigned char*>(p); }
unsigned char* u8(std::byte* p) { return reinterpret_cast<unsigned char*>(p); }

std::array<std::byte, 32> hmac_sha256(std::span<const std::byte> key, std::span<const std::byte> data) {
  std::array<std::byte, 32> out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), u8(data.data()), data.size(), u8(out.data()), &len);
  return out;
}

template <std::size_t N>
std::array<std::byte, N> expand(std::span<const std::byte> secret, std::string_view label) {
  const auto v = hkdf_expand_label(secret, label, N);
  std::array<std::byte, N> out{};
  std::copy(v.begin(), v.end(), out.begin());
  return out;
}

bool is_initial_type(std::uint32_t version, unsigned type) {
  return (version == quic_version_1 && type == 0) || (version == quic_version_2 && type == 1);
}

bool is_retry_type(std::uint32_t version, unsigned type) {
  return (version == quic_version_1 && type == 3) || (version == quic_version_2 && type == 0);
}

bool aes_gcm_open(const quic_initial_keys& keys, std::span<const std::byte, 12> nonce, std::span<const std::byte> aad,
                  std::span<const std::byte> sealed, std::vector<std::byte>& out) {
  cipher_ctx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  const auto body = sealed.first(sealed.size() - aead_tag);
  auto tag = sealed.last(aead_tag);
  std::array<std::byte, aead_tag> tag_copy{};
  std::copy(tag.begin(), tag.end(), tag_copy.begin());
  out.resize(body.size());
  int len = 0;
  return ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_128_gcm(), nullptr, u8(keys.key.data()), u8(nonce.data())) == 1 &&
         EVP_DecryptUpdate(ctx.get(), nullptr, &len, u8(aad.data()), static_cast<int>(aad.size())) == 1 &&
         EVP_DecryptUpdate(ctx.get(), u8(out.data()), &len, u8(body.data()), static_cast<int>(body.size())) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, aead_tag, tag_copy.data()) == 1 &&
         EVP_DecryptFinal_ex(ctx.get(), u8(out.data()) + len, &len) == 1;
}

// Skips an ACK frame's fields after its type (with ECN counts for 0x03).
bool skip_ack(byte_reader& r, bool ecn) {
  if (!r.varint() || !r.varint()) return false;
  auto ranges = r.varint();
  if (!ranges || !r.varint() || *ranges > r.remaining()) return false;
  for (std::uint64_t i = 0; i < *ranges; ++i)
    if (!r.varint() || !r.varint()) return false;
  return !ecn || (r.varint() && r.varint() && r.varint());
}

}  // namespace

std::vector<std::byte> hkdf_expand_label(std::span<const std::byte> secret, std::string_view label,
                                         std::size_t length) {
  const std::string full = "tls13 " + std::string(label);
  std::vector<std::byte> info;
  info.push_back(std::byte(length >> 8));
  info.push_back(std::byte(length & 0xff));
  info.push_back(std::byte(full.size()));
  for (char c : full) info.push_back(std::byte(c));
  info.push_back(std::byte{0});  // empty context
  info.push_back(std::byte{1});  // T(1): one block covers up to 32 bytes
  const auto block = hmac_sha256(secret, info);
  return std::vector<std::byte>(block.begin(), block.begin() + static_cast<std::ptrdiff_t>(std::min<std::size_t>(length, 32)));
}

std::optional<quic_initial_keys> client_initial_keys(std::uint32_t version, std::span<const std::byte> dcid) {
  if (version != quic_version_1 && version != quic_version_2) return std::nullopt;
  const bool v2 = version == quic_version_2;
  const auto& salt = v2 ? salt_v2 : salt_v1;
  const auto initial_secret = hmac_sha256(std::as_bytes(std::span(salt)), dcid);  // HKDF-Extract
  const auto client = hkdf_expand_label(initial_secret, "client in", 32);
  quic_initial_keys k;
  k.key = expand<16>(client, v2 ? "quicv2 key" : "quic key");
  k.iv = expand<12>(client, v2 ? "quicv2 iv" : "quic iv");
  k.hp = expand<16>(client, v2 ? "quicv2 hp" : "quic hp");
  return k;
}

std::optional<quic_long_header> read_long_header(std::span<const std::byte> datagram) {
  byte_reader r(datagram);
  auto first = r.u8();
  auto version = r.u32();
  if (!first || !version || (*first & 0x80) == 0 || *version == 0) return std::nullopt;
  if (*version != quic_version_1 && *version != quic_version_2) return std::nullopt;
  const unsigned type = (*first >> 4) & 3;
  if (is_retry_type(*version, type)) return std::nullopt;
  quic_long_header h;
  h.version = *version;
  h.initial = is_initial_type(*version, type);
  auto dcid = r.prefixed(1);
  auto scid = r.prefixed(1);
  if (!dcid || !scid || dcid->size() > 20 || scid->size() > 20) return std::nullopt;
  h.dcid = *dcid;
  if (h.initial) {
    auto token_length = r.varint();
    if (!token_length || !r.skip(static_cast<std::size_t>(std::min<std::uint64_t>(*token_length, SIZE_MAX))))
      return std::nullopt;
  }
  auto length = r.varint();
  if (!length || *length > r.remaining()) return std::nullopt;
  h.packet_number_offset = r.position();
  h.size = h.packet_number_offset + static_cast<std::size_t>(*length);
  return h;
}

std::array<std::byte, 5> header_protection_mask(const std::array<std::byte, 16>& hp,
                                                std::span<const std::byte, 16> sample) {
  std::array<std::byte, 32> block{};
  int len = 0;
  cipher_ctx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
  if (ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_128_ecb(), nullptr, u8(hp.data()), nullptr) == 1) {
    EVP_CIPHER_CTX_set_padding(ctx.get(), 0);
    EVP_EncryptUpdate(ctx.get(), u8(block.data()), &len, u8(sample.data()), static_cast<int>(sample.size()));
  }
  std::array<std::byte, 5> mask{};
  std::copy_n(block.begin(), mask.size(), mask.begin());
  return mask;
}

std::optional<std::vector<std::byte>> open_initial(std::span<const std::byte> packet, const quic_long_header& header,
                                                   const quic_initial_keys& keys) {
  const std::size_t pn_offset = header.packet_number_offset;
  if (packet.size() != header.size || pn_offset + 4 + sample_size > packet.size()) return std::nullopt;
  std::vector<std::byte> head(packet.begin(), packet.begin() + static_cast<std::ptrdiff_t>(pn_offset + 4));
  const auto mask = header_protection_mask(keys.hp, packet.subspan(pn_offset + 4).first<sample_size>());
  head[0] ^= mask[0] & std::byte{0x0f};
  const std::size_t pn_length = (std::to_integer<std::size_t>(head[0]) & 3) + 1;
  head.resize(pn_offset + pn_length);
  std::array<std::byte, 12> nonce = keys.iv;
  for (std::size_t i = 0; i < pn_length; ++i) {
    head[pn_offset + i] ^= mask[1 + i];
    nonce[12 - pn_length + i] ^= head[pn_offset + i];  // the truncated number: small in a client's first packets
  }
  if (packet.size() < head.size() + aead_tag) return std::nullopt;
  std::vector<std::byte> plain;
  if (!aes_gcm_open(keys, nonce, head, packet.subspan(head.size()), plain)) return std::nullopt;
  return plain;
}

bool quic_crypto_stream::add(std::uint64_t offset, std::span<const std::byte> data) {
  if (offset > max_size || data.size() > max_size - offset) return false;
  const std::size_t begin = static_cast<std::size_t>(offset), end = begin + data.size();
  if (data_.size() < end) {
    data_.resize(end);
    have_.resize(end);
  }
  for (std::size_t i = 0; i < data.size(); ++i) {
    if (have_[begin + i]) continue;  // the first copy of a byte wins
    data_[begin + i] = data[i];
    have_[begin + i] = true;
  }
  while (contiguous_ < have_.size() && have_[contiguous_]) ++contiguous_;
  return true;
}

bool read_crypto_frames(std::span<const std::byte> plaintext, quic_crypto_stream& stream) {
  byte_reader r(plaintext);
  while (r.remaining() > 0) {
    auto type = r.varint();
    if (!type) return false;
    if (*type == 0x00 || *type == 0x01) continue;  // PADDING, PING
    if (*type == 0x02 || *type == 0x03) {
      if (!skip_ack(r, *type == 0x03)) return false;
      continue;
    }
    if (*type != 0x06) return true;  // anything else: stop here
    auto offset = r.varint();
    auto length = r.varint();
    if (!offset || !length || *length > r.remaining()) return false;
    if (!stream.add(*offset, *r.bytes(static_cast<std::size_t>(*length)))) return false;
  }
  return true;
}

}  // namespace netpen::sniff
