// Unit tests for the proxy codecs' base64 encoder: RFC 4648 section 10 test
// vectors, the RFC 7617 Basic example, all byte values, padding.
#include <catch2/catch.hpp>

#include <string>

#include "net/proxy/base64.hpp"

using namespace netpen::proxy;

TEST_CASE("base64 RFC 4648 test vectors", "[proxy]") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_encode("foob") == "Zm9vYg==");
  CHECK(base64_encode("fooba") == "Zm9vYmE=");
  CHECK(base64_encode("foobar") == "Zm9vYmFy");
}

TEST_CASE("base64 of the RFC 7617 Basic example", "[proxy]") {
  CHECK(base64_encode("Aladdin:open sesame") == "QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
}

TEST_CASE("base64 uses + and / and handles high and zero bytes", "[proxy]") {
  CHECK(base64_encode(std::string("\xfb\xff", 2)) == "+/8=");
  CHECK(base64_encode(std::string("\xff\xff\xff", 3)) == "////");
  CHECK(base64_encode(std::string("\0\0\0", 3)) == "AAAA");
  CHECK(base64_encode(std::string("\0", 1)) == "AA==");
  CHECK(base64_encode(std::string("\x14\xfb\x9c\x03\xd9\x7e", 6)) == "FPucA9l+");
}

TEST_CASE("base64 output length is 4 * ceil(n / 3) and only alphabet characters", "[proxy]") {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (std::size_t n = 0; n <= all.size(); ++n) {
    const std::string out = base64_encode(std::string_view(all).substr(0, n));
    REQUIRE(out.size() == (n + 2) / 3 * 4);
    const auto first_pad = out.find('=');
    if (first_pad != std::string::npos) CHECK(out.size() - first_pad == (3 - n % 3) % 3);
    for (std::size_t i = 0; i < (first_pad == std::string::npos ? out.size() : first_pad); ++i)
      CHECK(std::string_view("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/").find(out[i]) !=
            std::string_view::npos);
  }
  CHECK(base64_encode(all).substr(0, 8) == "AAECAwQF");
  CHECK(base64_encode(all).substr(336) == "/P3+/w==");
}
