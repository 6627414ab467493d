// A bounds-checked reader over untrusted bytes for the sniffers: every read
// either succeeds within the span or fails (returns nullopt / false) and
// leaves the reader unusable, so a parser never reads past its input.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace netpen::sniff {

class byte_reader {
 public:
  explicit byte_reader(std::span<const std::byte> in) : in_(in) {}

  std::size_t remaining() const { return ok_ ? in_.size() - pos_ : 0; }
  std::size_t position() const { return pos_; }
  bool ok() const { return ok_; }
  bool at_end() const { return ok_ && pos_ == in_.size(); }

  // A big-endian unsigned integer of `width` bytes (1..8).
  std::optional<std::uint64_t> uint(std::size_t width) {
    if (width == 0 || width > 8 || remaining() < width) return fail<std::uint64_t>();
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < width; ++i) v = (v << 8) | std::to_integer<std::uint64_t>(in_[pos_ + i]);
    pos_ += width;
    return v;
  }
  std::optional<std::uint8_t> u8() { return narrow<std::uint8_t>(uint(1)); }
  std::optional<std::uint16_t> u16() { return narrow<std::uint16_t>(uint(2)); }
  std::optional<std::uint32_t> u24() { return narrow<std::uint32_t>(uint(3)); }
  std::optional<std::uint32_t> u32() { return narrow<std::uint32_t>(uint(4)); }

  // The next n bytes.
  std::optional<std::span<const std::byte>> bytes(std::size_t n) {
    if (remaining() < n) return fail<std::span<const std::byte>>();
    auto out = in_.subspan(pos_, n);
    pos_ += n;
    return out;
  }
  // A vector with a big-endian length prefix of `width` bytes (TLS style).
  std::optional<std::span<const std::byte>> prefixed(std::size_t width) {
    auto n = uint(width);
    if (!n) return std::nullopt;
    return bytes(static_cast<std::size_t>(*n));
  }
  // A QUIC variable-length integer (RFC 9000 section 16).
  std::optional<std::uint64_t> varint() {
    if (remaining() < 1) return fail<std::uint64_t>();
    const auto first = std::to_integer<unsigned>(in_[pos_]);
    const std::size_t width = std::size_t{1} << (first >> 6);
    auto v = uint(width);
    if (!v) return std::nullopt;
    return *v & ((width == 8) ? 0x3fffffffffffffffULL : ((std::uint64_t{1} << (8 * width - 2)) - 1));
  }
  bool skip(std::size_t n) { return bytes(n).has_value(); }

 private:
  template <class T>
  std::optional<T> fail() {
    ok_ = false;
    return std::nullopt;
  }
  template <class T>
  static std::optional<T> narrow(std::optional<std::uint64_t> v) {
    if (!v) return std::nullopt;
    return static_cast<T>(*v);
  }

  std::span<const std::byte> in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace netpen::sniff
