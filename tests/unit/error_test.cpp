// Unit tests for the result/error helpers every setup step returns.
#include <catch2/catch.hpp>

#include "net/common/error.hpp"

namespace {
netpen::result<int> half(int v) {
  if (v % 2 != 0) return netpen::fail("odd-value", "value is odd");
  return v / 2;
}
}  // namespace

TEST_CASE("result carries a value or a coded error") {
  auto ok = half(8);
  REQUIRE(ok.has_value());
  CHECK(*ok == 4);
  auto bad = half(3);
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code == "odd-value");
  CHECK(bad.error().message == "value is odd");
}
