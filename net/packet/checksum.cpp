// Internet checksum (RFC 1071) for net/packet: the partial sum over a byte
// span and the final fold. The inner loop adds 64-bit native-order words
// with end-around carry and converts to network order once at the end (the
// ones' complement sum is independent of byte order, RFC 1071 §2(B)).
#include <bit>
#include <cstring>

#include "net/packet/frame.hpp"

namespace netpen::packet {
namespace {

// Folds a 64-bit ones' complement accumulator to 16 bits.
std::uint16_t fold64(std::uint64_t s) {
  s = (s & 0xffffffffu) + (s >> 32);
  s = (s & 0xffffffffu) + (s >> 32);
  s = (s & 0xffffu) + (s >> 16);
  s = (s & 0xffffu) + (s >> 16);
  return static_cast<std::uint16_t>(s);
}

std::uint16_t to_network_order(std::uint16_t v) {
  if constexpr (std::endian::native == std::endian::little) {
    return static_cast<std::uint16_t>((v >> 8) | (v << 8));
  } else {
    return v;
  }
}

}  // namespace

std::uint32_t checksum_partial(std::span<const std::byte> data, std::uint32_t sum) {
  std::uint64_t acc = 0;
  const std::byte* p = data.data();
  std::size_t n = data.size();
  while (n >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    acc += w;
    acc += (acc < w) ? 1u : 0u;  // end-around carry
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    // The tail keeps its offsets mod 8, so an odd last byte lands in the
    // high-order half of a zero-padded 16-bit word, as RFC 1071 requires.
    std::uint64_t w = 0;
    std::memcpy(&w, p, n);
    acc += w;
    acc += (acc < w) ? 1u : 0u;
  }
  const std::uint64_t total = std::uint64_t{to_network_order(fold64(acc))} + sum;
  // Keep the result within 32 bits while preserving its ones' complement value.
  return static_cast<std::uint32_t>((total & 0xffffffffu) + (total >> 32));
}

std::uint16_t checksum_fold(std::uint32_t sum) {
  return static_cast<std::uint16_t>(~fold64(sum));
}

}  // namespace netpen::packet
