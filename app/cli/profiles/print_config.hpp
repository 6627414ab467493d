// --print-config / --dump-profile: the effective settings (profile and
// command line merged, as the parser saw them) as a TOML profile that
// netpen reads back unchanged (--config FILE or --profile FILE): keys are
// the long option names in --help order, lists are arrays, relative paths
// made absolute against `cwd` (a profile file's paths are relative to the
// file), a password shown as "<redacted>" (which reading back refuses).
// Pure.
#pragma once
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace netpen::app::cli::profiles {

// TOML basic string: "a\"b".
std::string toml_quote(std::string_view text);

// `tokens`: "--long" / "--long=value"; `command`: empty when none.
std::string render_config(std::span<const std::string> tokens, std::span<const std::string> command,
                          const std::filesystem::path& cwd);

}  // namespace netpen::app::cli::profiles
