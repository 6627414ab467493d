// [profiles] key_map, profile_resolver and profile_tokens: keys and their
// aliases, extends chains (names and relative files), layers replacing
// options, cycles, childflow file profiles with relative paths and command.
#include <catch2/catch.hpp>

#include <map>

#include "app/cli/profiles/profile_resolver.hpp"
#include "app/cli/profiles/profile_tokens.hpp"

using namespace netpen::app::cli::profiles;
using netpen::result;

namespace {

// In-memory files for the resolver's loader.
struct fake_files {
  std::map<std::string, std::string> files;
  file_loader loader() const {
    return [this](const std::filesystem::path& p) -> result<config_document> {
      auto it = files.find(p.lexically_normal().string());
      if (it == files.end()) return netpen::fail("bad-value", p.string() + ": cannot read: No such file or directory");
      return parse_config(it->second, p.lexically_normal().string());
    };
  }
};

std::vector<std::string> tokens_of(const result<resolved_profile>& r) {
  std::vector<std::string> out;
  if (!r) return {"error: " + r.error().message};
  for (const auto& t : to_tokens(*r)) out.push_back(t.token);
  return out;
}

result<resolved_profile> resolve_text(std::string_view text, std::string_view profile, const fake_files& fs = {}) {
  auto doc = parse_config(text, "c.toml");
  if (!doc) return netpen::unexpected<netpen::error>(doc.error());
  return resolve_profile(&*doc, profile, fs.loader());
}

constexpr std::string_view config =
    "block_metadata = true\n"
    "[profile.base]\nallow = [\"a.example\", \"*.b.example\"]\nsummary = true\nlog = \"x.jsonl\"\n"
    "[profile.ci]\nextends = \"base\"\nfail-on-leak = true\nsummary = false\nallow = \"c.example\"\n"
    "[profile.l1]\nextends = \"l2\"\n[profile.l2]\nextends = \"l1\"\n";

}  // namespace

TEST_CASE("key_map: '_' and '-', childflow aliases, refused and unknown keys", "[profiles]") {
  CHECK(map_key("block_metadata")->option == "--block-metadata");
  CHECK(map_key("block-metadata")->shape == option_shape::flag);
  CHECK(map_key("allow_cidrs")->option == "--allow");
  CHECK(map_key("deny_domains")->option == "--deny");
  CHECK(map_key("flow_log")->option == "--log");
  CHECK(map_key("capture")->option == "--output");
  CHECK(map_key("default_policy")->shape == option_shape::value);
  CHECK(map_key("allow")->shape == option_shape::list);
  CHECK(map_key("frob").error().message == "unknown key");
  CHECK(map_key("profile").error().message.starts_with("not allowed in a profile"));
  CHECK(map_key("dump_profile").error().message.starts_with("not allowed in a profile"));
}

TEST_CASE("resolver: top-level keys, extends chain, a layer replaces an option, false drops a true", "[profiles]") {
  CHECK(tokens_of(resolve_text(config, "ci")) ==
        std::vector<std::string>{"--allow=c.example", "--block-metadata", "--fail-on-leak", "--log=x.jsonl"});
  CHECK(tokens_of(resolve_text(config, "base")) ==
        std::vector<std::string>{"--allow=a.example", "--allow=*.b.example", "--block-metadata", "--log=x.jsonl",
                                 "--summary"});
  CHECK(tokens_of(resolve_text(config, "")) == std::vector<std::string>{"--block-metadata"});
}

TEST_CASE("resolver: the line's options are dropped from the profile", "[profiles]") {
  auto r = resolve_text(config, "base");
  REQUIRE(r);
  auto kept = without_options(to_tokens(*r), {"--allow", "--summary"});
  std::vector<std::string> tokens;
  for (const auto& t : kept) tokens.push_back(t.token);
  CHECK(tokens == std::vector<std::string>{"--block-metadata", "--log=x.jsonl"});
  CHECK(option_of("--allow=a=b") == "--allow");
}

TEST_CASE("resolver: errors name file, line and key", "[profiles]") {
  CHECK(tokens_of(resolve_text(config, "l1")).front() ==
        "error: c.toml:14: key 'extends': extends cycle: profile l1 -> profile l2 -> profile l1");
  CHECK(tokens_of(resolve_text(config, "nope")).front() ==
        "error: --profile: no [profile.nope] in c.toml (profiles: base, ci, l1, l2)");
  CHECK(tokens_of(resolve_text("[profile.x]\nextends = \"y\"\n", "x")).front() ==
        "error: c.toml:2: key 'extends': no [profile.y] in c.toml (profiles: x)");
  CHECK(tokens_of(resolve_text("offline = \"yes\"\n", "")).front() == "error: c.toml:1: key 'offline': true or false expected");
  CHECK(tokens_of(resolve_text("dns = [\"a\"]\n", "")).front() == "error: c.toml:1: key 'dns': a string expected");
  CHECK(tokens_of(resolve_text("\nfrob = 1\n", "")).front() == "error: c.toml:2: key 'frob': unknown key");
  CHECK(tokens_of(resolve_text("log = \"a\"\nflow_log = \"b\"\n", "")).front().find("sets --log as key") !=
        std::string::npos);
  CHECK(tokens_of(resolve_text("proxy_password = \"<redacted>\"\n", "")).front().find("redacted by --print-config") !=
        std::string::npos);
  auto none = resolve_profile(nullptr, "ci", fake_files{}.loader());
  REQUIRE_FALSE(none);
  CHECK(none.error().message.starts_with("--profile ci: no config file"));
}

TEST_CASE("resolver: childflow file profiles: extends by path, relative paths, command, aliases add up", "[profiles]") {
  fake_files fs;
  fs.files["/p/base.toml"] = "default_policy = \"deny\"\nallow_cidrs = [\"203.0.113.0/24\"]\n"
                             "allow_domains = [\"web.example\"]\nhosts_file = \"hosts\"\n";
  fs.files["/p/sub/child.toml"] = "extends = \"../base.toml\"\nflow_log = \"out/log.jsonl\"\ncapture = \"/abs/c.pcapng\"\n"
                                  "command = [\"curl\", \"-s\", \"https://web.example/\"]\n";
  fs.files["/p/a.toml"] = "extends = \"b.toml\"\n";
  fs.files["/p/b.toml"] = "extends = \"a.toml\"\n";
  auto r = resolve_profile(nullptr, "/p/sub/child.toml", fs.loader());
  REQUIRE(r);
  CHECK(tokens_of(r) == std::vector<std::string>{"--allow=203.0.113.0/24", "--allow=web.example",
                                                 "--default-policy=deny", "--hosts-file=/p/hosts",
                                                 "--log=/p/sub/out/log.jsonl", "--output=/abs/c.pcapng"});
  REQUIRE(r->command);
  CHECK(r->command->value.items == std::vector<std::string>{"curl", "-s", "https://web.example/"});
  auto cycle = resolve_profile(nullptr, "/p/a.toml", fs.loader());
  REQUIRE_FALSE(cycle);
  CHECK(cycle.error().message.find("key 'extends': extends cycle") != std::string::npos);
  auto missing = resolve_profile(nullptr, "/p/none.toml", fs.loader());
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message == "/p/none.toml: cannot read: No such file or directory");
  CHECK(is_profile_path("./x"));
  CHECK(is_profile_path("x.toml"));
  CHECK_FALSE(is_profile_path("ci"));
}
