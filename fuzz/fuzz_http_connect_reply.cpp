// libFuzzer target: the HTTP CONNECT response parser (net/proxy
// http_connect) reading an upstream proxy's answer: status line, headers,
// 1xx interim responses, tunnel bytes after the header block. The first
// input byte seeds the chunk sizes; the rest is what the proxy sent.
// Oracles besides the sanitizers: split or whole, the answer gives the same
// status, code, reason and error; leftover() is a tail of the input; the
// reason is printable ASCII of at most max_reason_phrase bytes; the header
// block never grows past max_connect_response_header; describe() never
// fails; after done or failed more input is ignored.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz/proxy_feed.hpp"
#include "net/proxy/http_connect.hpp"

using namespace netpen::proxy;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto reply = std::as_bytes(std::span(data + 1, size - 1));
  connect_response_parser chunked, whole;
  const auto s = netpen_fuzz::feed_chunked(chunked, reply, data[0]);
  (void)chunked.describe();
  FUZZ_REQUIRE(whole.feed(reply) == s);
  if (s == connect_response_parser::status::failed) FUZZ_REQUIRE(whole.error() == chunked.error());
  if (s != connect_response_parser::status::done) return 0;
  FUZZ_REQUIRE(whole.code() == chunked.code() && whole.reason() == chunked.reason());
  FUZZ_REQUIRE(chunked.reason().size() <= max_reason_phrase);
  for (char c : chunked.reason()) FUZZ_REQUIRE(c >= 0x20 && c < 0x7f);
  const auto a = chunked.leftover(), b = whole.leftover();
  FUZZ_REQUIRE(a.size() <= b.size() && std::ranges::equal(a, b.first(a.size())));
  FUZZ_REQUIRE(reply.size() - b.size() <= max_connect_response_header);
  return 0;
}
