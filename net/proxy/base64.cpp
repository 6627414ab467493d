// RFC 4648 base64 encoder: every 3 input bytes become 4 output characters;
// a final group of 1 or 2 bytes is padded with "==" or "=".
#include "net/proxy/base64.hpp"

#include <cstddef>
#include <cstdint>

namespace netpen::proxy {

namespace {
constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::uint32_t byte_at(std::string_view s, std::size_t i) { return static_cast<unsigned char>(s[i]); }
}  // namespace

std::string base64_encode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const std::uint32_t v = (byte_at(data, i) << 16) | (byte_at(data, i + 1) << 8) | byte_at(data, i + 2);
    out += alphabet[(v >> 18) & 0x3f];
    out += alphabet[(v >> 12) & 0x3f];
    out += alphabet[(v >> 6) & 0x3f];
    out += alphabet[v & 0x3f];
  }
  const std::size_t rest = data.size() - i;
  if (rest == 1) {
    const std::uint32_t v = byte_at(data, i) << 16;
    out += alphabet[(v >> 18) & 0x3f];
    out += alphabet[(v >> 12) & 0x3f];
    out += "==";
  } else if (rest == 2) {
    const std::uint32_t v = (byte_at(data, i) << 16) | (byte_at(data, i + 1) << 8);
    out += alphabet[(v >> 18) & 0x3f];
    out += alphabet[(v >> 12) & 0x3f];
    out += alphabet[(v >> 6) & 0x3f];
    out += '=';
  }
  return out;
}

}  // namespace netpen::proxy
