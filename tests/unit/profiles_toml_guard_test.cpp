// [profiles] toml_guard: the screen that keeps toml++ 3.3.0 away from the
// non-ASCII code points it cannot classify (found by fuzz_profile_config;
// the input that found it is fuzz/corpus/profile_config/regress-toml-unreachable).
#include <catch2/catch.hpp>

#include "app/cli/profiles/toml_guard.hpp"
#include "app/cli/profiles/toml_reader.hpp"

using namespace netpen::app::cli::profiles;

// regress-toml-unreachable: "\xc8\xb9 " (U+0239 then a space) at the start
// of a file sent toml++ 3.3.0's whitespace check to __builtin_unreachable().
TEST_CASE("fuzz: a non-ASCII character where toml++ expects whitespace is refused", "[profiles][fuzz]") {
  const auto doc = parse_config("\xc8\xb9 ", "p.toml");
  REQUIRE_FALSE(doc);
  CHECK(doc.error().code == "bad-value");
  CHECK(doc.error().message.rfind("p.toml:1: invalid TOML: a non-ASCII character", 0) == 0);
  CHECK(unsafe_non_ascii_line("a = 1\n\n  \xc8\xb9 = 2\n") == 3);
  CHECK(unsafe_non_ascii_line("a = [\"x\",\xe3\x80\x80\"y\"]") == 1);  // U+3000 between values
  CHECK(unsafe_non_ascii_line("s = \"\"\"\\\n  \xc2\xa7\"\"\"\n") == 2);  // after a line-ending backslash
  CHECK(unsafe_non_ascii_line("s = \"\"\"x\"\"\"\"\"\n\xc2\xa7") == 2);     // the string ended at its fifth quote
  // regress-toml-bare-token: toml++ scans the bad number 0x[... up to a
  // blank, past the quote, and classifies U+02CB on the way.
  CHECK(unsafe_non_ascii_line("exxte= 0x[\"%1\x7f" "e\xcb\x8bomudom;") == 1);
  CHECK(unsafe_non_ascii_line("a = 1\"\xc2\xa7\"") == 1);
  CHECK(unsafe_non_ascii_line("a = [\n  1.\"\xc2\xa7\"\n]\n") == 2);  // a line start inside an array is a value
  CHECK(unsafe_non_ascii_line("a = { b = 1.\"\xc2\xa7\" }\n") == 1);
}

TEST_CASE("toml_guard: non-ASCII text in strings and comments stays allowed", "[profiles]") {
  for (const char* ok : {"# caf\xc3\xa9\nallow = [\"caf\xc3\xa9.example\"]\n", "s = 'na\xc3\xafve'\n",
                         "[profile.\"\xc3\xa9t\xc3\xa9\"]\nx = true\n", "s = \"\"\"a\n\xc2\xa7 b\"\"\"\n",
                         "s = '''\n\xc2\xa7\n'''\n", "s = \"q\\\"\xc2\xa7\"\n",
                         "a.\"\xc3\xa9\" = 1\n", "# x\n[[t.\"\xc3\xa9\"]]\n", "s = \"\"\"a\\\\\n\xc2\xa7\"\"\"\n"}) {
    INFO(ok);
    CHECK_FALSE(unsafe_non_ascii_line(ok).has_value());
  }
  const auto doc = parse_config("# caf\xc3\xa9\n[profile.\"\xc3\xa9t\xc3\xa9\"]\nsummary = true\n", "p.toml");
  REQUIRE(doc);
  REQUIRE(doc->profiles.size() == 1);
}
