// Which settings a run gets from its config file and profile (theory of
// operation). Layers, weakest first: the config file's top-level keys (they
// apply to every profile), then the chosen profile's `extends` chain, base
// first, then the profile itself. A later layer replaces an option as a
// whole (a list too); within one table, keys naming the same list option
// (allow_cidrs, allow_domains) add up. The profile is `[profile.NAME]` of
// the config file, or, for a value with '/' or ending in ".toml", a file
// whose top-level keys are one profile (childflow 0.8): its `extends` is a
// path relative to it, its relative paths resolve against its directory.
// `extends` in a config file names a profile, or a file when it looks like
// a path. Cycles are refused. Pure apart from the file loader it is given.
#pragma once
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "app/cli/profiles/key_map.hpp"
#include "app/cli/profiles/toml_reader.hpp"
#include "net/common/error.hpp"

namespace netpen::app::cli::profiles {

struct applied_setting {
  setting source;  // where it came from; value already checked (paths resolved)
  option_key key;
};

struct resolved_profile {
  std::map<std::string, applied_setting> options;  // "--allow" -> what sets it
  std::optional<setting> command;                  // `command = [...]` (a list, not empty)
};

using file_loader = std::function<result<config_document>(const std::filesystem::path&)>;

// A --profile value naming a file rather than a [profile.NAME].
bool is_profile_path(std::string_view value);

// `config` may be null (no config file); `profile` empty means none.
result<resolved_profile> resolve_profile(const config_document* config, std::string_view profile,
                                         const file_loader& load);

}  // namespace netpen::app::cli::profiles
