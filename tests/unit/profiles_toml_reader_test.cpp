// [profiles] toml_reader: TOML text -> settings with file and line; the
// shapes netpen takes and the one-line errors for the others.
#include <catch2/catch.hpp>

#include "app/cli/profiles/toml_reader.hpp"

using namespace netpen::app::cli::profiles;

TEST_CASE("toml_reader: top-level keys and profile tables with their lines", "[profiles]") {
  auto doc = parse_config("dns = \"192.0.2.53\"\nblock_metadata = true\nudp_timeout = 45\n\n"
                          "[profile.ci]\nallow = [\"a.example\",\n  \"b.example\"]\n",
                          "c.toml");
  REQUIRE(doc);
  REQUIRE(doc->top.size() == 3);
  const auto find = [&](std::string_view key) {
    for (const auto& s : doc->top)
      if (s.key == key) return s;
    return setting{};
  };
  CHECK(find("dns").value.text == "192.0.2.53");
  CHECK(find("dns").line == 1);
  CHECK(find("block_metadata").value.kind == setting_value::type::boolean);
  CHECK(find("block_metadata").value.flag);
  CHECK(find("udp_timeout").value.text == "45");  // an integer, as text
  REQUIRE(doc->profiles.size() == 1);
  CHECK(doc->profiles[0].name == "ci");
  REQUIRE(doc->profiles[0].settings.size() == 1);
  const setting& allow = doc->profiles[0].settings[0];
  CHECK(allow.line == 6);
  CHECK(allow.file == "c.toml");
  CHECK(allow.value.items == std::vector<std::string>{"a.example", "b.example"});
}

TEST_CASE("toml_reader: shapes netpen has no option for are errors naming file, line and key", "[profiles]") {
  auto r = parse_config("\n\nallow = [1.5]\n", "c.toml");
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "c.toml:3: key 'allow': a list of strings expected");
  r = parse_config("x = 1.5\n", "c.toml");
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "c.toml:1: key 'x': a string, true/false or a list of strings expected");
  r = parse_config("profile = { ci = 3 }\n", "c.toml");
  REQUIRE_FALSE(r);
  CHECK(r.error().message.starts_with("c.toml:1: key 'profile.ci':"));
}

TEST_CASE("toml_reader: invalid TOML names the file and line", "[profiles]") {
  auto r = parse_config("a = 1\nb = [\n", "bad.toml");
  REQUIRE_FALSE(r);
  CHECK(r.error().message.starts_with("bad.toml:"));
  CHECK(r.error().message.find("invalid TOML") != std::string::npos);
  auto missing = read_config("/nonexistent/netpen.toml");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message == "/nonexistent/netpen.toml: cannot read: No such file or directory");
}
