// Unit tests for the TCP endpoint's byte ring, in particular the property
// the relay depends on: writable spans stay valid while the head advances.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>

#include "net/tcp/byte_ring.hpp"

using netpen::tcp::byte_ring;

namespace {
std::string read_all(const byte_ring& r) {
  std::string out;
  for (auto s : r.readable()) out.append(reinterpret_cast<const char*>(s.data()), s.size());
  return out;
}
void fill(std::span<std::byte> s, const std::string& text, std::size_t from) {
  std::memcpy(s.data(), text.data() + from, s.size());
}
}  // namespace

TEST_CASE("byte ring: write, peek and consume across the wrap", "[tcp][ring]") {
  byte_ring r(8);
  const std::string abc = "abcdef";
  CHECK(r.write(std::as_bytes(std::span(abc.data(), abc.size()))) == 6);
  r.consume(4);
  const std::string more = "ghijkl";
  CHECK(r.write(std::as_bytes(std::span(more.data(), more.size()))) == 6);
  CHECK(r.size() == 8);
  CHECK(read_all(r) == "efghijkl");
  auto p = r.peek(1, 5);
  CHECK(p[0].size() + p[1].size() == 5);
  CHECK(p[1].size() > 0);  // wrapped
}

TEST_CASE("byte ring: writable spans survive consume emptying the ring", "[tcp][ring]") {
  byte_ring r(16);
  const std::string first = "HTTP/1.1 200 OK\r\n";  // 17 > 16: write 16
  CHECK(r.write(std::as_bytes(std::span(first.data(), first.size()))) == 16);
  r.consume(10);
  auto spans = r.writable();   // the relay starts an async read into these...
  r.consume(6);                // ...and an ACK empties the ring meanwhile
  CHECK(r.empty());
  const std::string body = "netpen-ok";
  std::size_t done = 0;
  for (auto s : spans) {
    auto n = std::min(s.size(), body.size() - done);
    fill(s.first(n), body, done);
    done += n;
  }
  r.commit(body.size());
  CHECK(read_all(r) == "netpen-ok");
}

TEST_CASE("byte_ring allocates on first write and releases only when empty", "[tcp][ring]") {
  byte_ring r(16);
  CHECK_FALSE(r.allocated());
  CHECK(r.free() == 16);
  const std::string s = "abcdef";
  CHECK(r.write(std::as_bytes(std::span(s))) == 6);
  CHECK(r.allocated());
  r.release();  // not empty: kept
  CHECK(r.allocated());
  CHECK(read_all(r) == "abcdef");
  r.consume(6);
  r.release();
  CHECK_FALSE(r.allocated());
  CHECK(r.write(std::as_bytes(std::span(s))) == 6);
  CHECK(read_all(r) == "abcdef");
}

TEST_CASE("byte_ring grows keeping wrapped contents in order", "[tcp][ring]") {
  byte_ring r(8);
  const std::string a = "abcdef", b = "ghij";
  CHECK(r.write(std::as_bytes(std::span(a))) == 6);
  r.consume(4);                                       // head at 4: "ef"
  CHECK(r.write(std::as_bytes(std::span(b))) == 4);  // wraps: "efghij"
  r.grow(32);
  CHECK(r.capacity() == 32);
  CHECK(read_all(r) == "efghij");
  CHECK(r.free() == 26);
  const std::string c = "KLMNOPQRSTUVWXYZ";
  CHECK(r.write(std::as_bytes(std::span(c))) == 16);
  CHECK(read_all(r) == "efghijKLMNOPQRSTUVWXYZ");
  r.grow(16);  // never shrinks
  CHECK(r.capacity() == 32);
}
