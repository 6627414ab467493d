// Shared by the proxy reply targets: feeds a reply in chunks whose sizes a
// seed byte picks, and checks what both codecs promise about their stream.
#pragma once
#include <algorithm>
#include <cstddef>
#include <span>

#include "fuzz/fuzz_require.hpp"

namespace netpen_fuzz {

// Feeds `reply` to `codec` (need_more/done/failed statuses, leftover())
// in chunks; returns the final status. After done or failed, more input
// changes nothing; leftover() is the input's tail after the reply.
template <class Codec>
auto feed_chunked(Codec& codec, std::span<const std::byte> reply, unsigned seed) {
  using status = typename Codec::status;
  status s = codec.current();
  std::size_t at = 0;
  while (at < reply.size() && s == status::need_more) {
    seed = seed * 1103515245u + 12345u;
    const std::size_t n = std::min<std::size_t>(reply.size() - at, 1 + (seed >> 16) % 23);
    s = codec.feed(reply.subspan(at, n));
    at += n;
  }
  if (s == status::done) {
    const auto left = codec.leftover();
    FUZZ_REQUIRE(left.size() <= at && std::ranges::equal(left, reply.subspan(at - left.size(), left.size())));
  }
  if (s != status::need_more) {
    FUZZ_REQUIRE(codec.feed(reply.first(std::min<std::size_t>(reply.size(), 3))) == s);
    FUZZ_REQUIRE(codec.current() == s);
  }
  if (s == status::failed) FUZZ_REQUIRE(!codec.error().empty());
  return s;
}

}  // namespace netpen_fuzz
