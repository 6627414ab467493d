// Sequence-number arithmetic modulo 2^32 (RFC 9293 section 3.4): every
// comparison of TCP sequence or acknowledgment numbers goes through here.
#pragma once
#include <cstddef>
#include <cstdint>

namespace netpen::tcp::seq {

// Signed distance a - b, valid while the two are less than 2^31 apart.
constexpr std::int32_t diff(std::uint32_t a, std::uint32_t b) {
  return static_cast<std::int32_t>(a - b);
}
constexpr bool lt(std::uint32_t a, std::uint32_t b) { return diff(a, b) < 0; }
constexpr bool le(std::uint32_t a, std::uint32_t b) { return diff(a, b) <= 0; }
constexpr bool gt(std::uint32_t a, std::uint32_t b) { return diff(a, b) > 0; }
constexpr bool ge(std::uint32_t a, std::uint32_t b) { return diff(a, b) >= 0; }
// lo <= x < hi, modulo 2^32.
constexpr bool in_range(std::uint32_t x, std::uint32_t lo, std::uint32_t hi) {
  return le(lo, x) && lt(x, hi);
}
// Advances a sequence number by a byte count (wrapping).
constexpr std::uint32_t add(std::uint32_t s, std::size_t n) {
  return s + static_cast<std::uint32_t>(n);
}
// Unsigned distance from b forward to a; caller guarantees ge(a, b).
constexpr std::size_t span(std::uint32_t a, std::uint32_t b) {
  return static_cast<std::size_t>(a - b);
}
constexpr std::uint32_t max(std::uint32_t a, std::uint32_t b) { return lt(a, b) ? b : a; }

static_assert(lt(0xffffffffu, 0u));
static_assert(gt(5u, 0xfffffff0u));
static_assert(span(3u, 0xfffffffeu) == 5);

}  // namespace netpen::tcp::seq
