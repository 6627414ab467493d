// libFuzzer target: the config-file and profile loader (app/cli/profiles:
// toml_reader on toml++, profile_resolver, key_map's value checks) on a
// hostile config file, e.g. a profile shipped inside a repository one runs
// `netpen --profile ./netpen.toml` on. Every profile it names is resolved;
// an `extends` that names a file loads the same input again (so cycles
// through files are exercised too), up to 16 files. Oracles besides the sanitizers: a
// resolved profile printed the way --print-config does is a config that
// loads, resolves and prints the same text again.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "app/cli/profiles/print_config.hpp"
#include "app/cli/profiles/profile_resolver.hpp"
#include "app/cli/profiles/profile_tokens.hpp"
#include "app/cli/profiles/toml_reader.hpp"
#include "fuzz/fuzz_require.hpp"

namespace {

using namespace netpen::app::cli::profiles;

std::vector<std::string> token_list(const resolved_profile& p) {
  std::vector<std::string> out;
  for (const auto& t : to_tokens(p)) out.push_back(t.token);
  return out;
}

std::string printed(const resolved_profile& p) {
  std::vector<std::string> command;
  if (p.command) command = p.command->value.items;
  return render_config(token_list(p), command, "/fuzz");
}

// --print-config's output for `p` is a config that loads, resolves, and
// prints the same again (paths were made absolute and passwords redacted
// by the first print, so the second changes nothing).
void check_printed(const resolved_profile& p, const file_loader& load) {
  const std::string text = printed(p);
  const auto doc = parse_config(text, "printed.toml");
  FUZZ_REQUIRE(doc.has_value());
  const auto again = resolve_profile(&*doc, "", load);
  FUZZ_REQUIRE(again.has_value());
  if (printed(*again) != text) std::fprintf(stderr, "printed:\n%s\nprinted again:\n%s\n", text.c_str(), printed(*again).c_str());
  FUZZ_REQUIRE(printed(*again) == text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 16384) return 0;
  const std::string text(reinterpret_cast<const char*>(data), size);
  // Every file holds the same text, up to 16 loads a run: a real tree of
  // files is finite (and weakly_canonical sees through symlink loops), the
  // fuzzer's paths are not.
  int loads = 0;
  const file_loader load = [&](const std::filesystem::path& path) -> netpen::result<config_document> {
    if (++loads > 16) return netpen::fail("bad-value", path.string() + ": cannot read: too many files");
    return parse_config(text, path.string());
  };
  const auto doc = parse_config(text, "/fuzz/netpen.toml");
  if (!doc) return 0;
  std::vector<std::string> names{""};
  for (const auto& p : doc->profiles) names.push_back(p.name);
  for (const auto& name : names) {
    if (auto r = resolve_profile(&*doc, name, load)) check_printed(*r, load);
  }
  if (auto r = resolve_profile(nullptr, "/fuzz/profile.toml", load)) check_printed(*r, load);
  return 0;
}
