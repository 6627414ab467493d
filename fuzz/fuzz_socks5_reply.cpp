// libFuzzer target: the SOCKS5 client codec (net/proxy socks5) reading an
// upstream proxy's replies: method selection, username/password status,
// CONNECT reply with any address type, and tunnel bytes after it. The first
// input byte picks the request (credentials or not; a name, an IPv4 or an
// IPv6 target) and seeds the chunk sizes; the rest is what the proxy sent.
// Oracles besides the sanitizers: split or whole, the reply gives the same
// status and error; leftover() is a tail of the input (whole: the rest of
// it); a failed codec says why; after done or failed more input is ignored.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "fuzz/proxy_feed.hpp"
#include "net/proxy/socks5.hpp"

using namespace netpen::proxy;

namespace {

socks5_client make_client(std::uint8_t opts) {
  connect_target t;
  t.port = 443;
  if (opts & 2) t.name = "fuzz.example";
  t.v6 = (opts & 4) != 0;
  t.address = {192, 0, 2, 1};
  std::optional<credentials> creds;
  if (opts & 1) creds = credentials{"user", "secret"};
  return socks5_client(t, creds);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto reply = std::as_bytes(std::span(data + 1, size - 1));
  socks5_client chunked = make_client(data[0]), whole = make_client(data[0]);
  FUZZ_REQUIRE(!chunked.take_output().empty());
  (void)whole.take_output();
  const auto s = netpen_fuzz::feed_chunked(chunked, reply, data[0]);
  (void)chunked.take_output();
  FUZZ_REQUIRE(whole.feed(reply) == s);
  if (s == socks5_client::status::failed) FUZZ_REQUIRE(whole.error() == chunked.error());
  if (s == socks5_client::status::done) {
    const auto a = chunked.leftover(), b = whole.leftover();
    FUZZ_REQUIRE(a.size() <= b.size() && std::ranges::equal(a, b.first(a.size())));
  }
  return 0;
}
