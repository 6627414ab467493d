// [profiles] print_config: the effective settings as TOML, read back into
// the same settings (the round trip of --print-config), passwords redacted.
#include <catch2/catch.hpp>

#include "app/cli/profiles/print_config.hpp"
#include "app/cli/profiles/profile_resolver.hpp"
#include "app/cli/profiles/profile_tokens.hpp"

using namespace netpen::app::cli::profiles;

namespace {

std::vector<std::string> read_back(const std::string& text, std::vector<std::string>* command = nullptr,
                                   bool sorted = true) {
  auto doc = parse_config(text, "printed.toml");
  if (!doc) return {"error: " + doc.error().message};
  auto r = resolve_profile(&*doc, "", [](const std::filesystem::path&) { return netpen::fail("x", "x"); });
  if (!r) return {"error: " + r.error().message};
  if (command != nullptr && r->command) *command = r->command->value.items;
  std::vector<std::string> out;
  for (const auto& t : to_tokens(*r)) out.push_back(t.token);
  if (sorted) std::ranges::sort(out);
  return out;
}

}  // namespace

TEST_CASE("print_config: round trip, lists as arrays, --help order, paths made absolute", "[profiles]") {
  const std::vector<std::string> tokens{"--dns=192.0.2.53", "--allow=a.example", "--block-metadata",
                                        "--allow=*.b \"quoted\" \\ example", "--log=out/x.jsonl",
                                        "--config=/c.toml",  // not a setting: never printed
                                        "--udp-timeout=45"};
  const std::vector<std::string> command{"sh", "-c", "echo 'a b'\n"};
  const std::string text = render_config(tokens, command, "/work");
  CHECK(text.find("dns = \"192.0.2.53\"\n") != std::string::npos);
  CHECK(text.find("allow = [\"a.example\", \"*.b \\\"quoted\\\" \\\\ example\"]\n") != std::string::npos);
  CHECK(text.find("\nconfig") == std::string::npos);
  CHECK(text.find("dns") < text.find("allow"));
  std::vector<std::string> back_command;
  CHECK(read_back(text, &back_command) ==
        std::vector<std::string>{"--allow=*.b \"quoted\" \\ example", "--allow=a.example", "--block-metadata",
                                 "--dns=192.0.2.53", "--log=/work/out/x.jsonl", "--udp-timeout=45"});
  CHECK(back_command == command);
  // Printing what was read back gives the same text.
  auto again = read_back(text, nullptr, false);
  CHECK(render_config(again, command, "/elsewhere") == text);
}

TEST_CASE("print_config: passwords are redacted, and reading them back is refused", "[profiles]") {
  const std::vector<std::string> tokens{"--proxy=http://u:s3cret@proxy.example:3128", "--proxy-user=v",
                                        "--proxy-password=hunter2"};
  const std::string text = render_config(tokens, {}, "/");
  CHECK(text.find("s3cret") == std::string::npos);
  CHECK(text.find("hunter2") == std::string::npos);
  CHECK(text.find("proxy = \"http://u:<redacted>@proxy.example:3128\"") != std::string::npos);
  CHECK(text.find("proxy-password = \"<redacted>\"") != std::string::npos);
  auto back = read_back(text);
  REQUIRE(back.size() == 1);
  CHECK(back.front().find("the password was redacted by --print-config") != std::string::npos);
}

TEST_CASE("print_config: toml_quote escapes", "[profiles]") {
  CHECK(toml_quote("plain") == "\"plain\"");
  CHECK(toml_quote("a\"b\\c\nd\x01") == "\"a\\\"b\\\\c\\nd\\u0001\"");
}
