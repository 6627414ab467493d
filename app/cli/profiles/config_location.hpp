// Where netpen's config file is looked up (--config, else
// $XDG_CONFIG_HOME/netpen/config.toml or ~/.config/netpen/config.toml, else
// /etc/netpen/config.toml), and the profile names it defines (for
// completions). Reading and applying profiles is profile_loader's.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace netpen::app::cli::profiles {

// The first existing file of the default lookup order, if any.
std::optional<std::filesystem::path> default_config_path();

// The names of the [profile.NAME] tables of `file`, sorted; empty when the
// file cannot be read or parsed (completions must never print errors).
std::vector<std::string> profile_names(const std::filesystem::path& file);

}  // namespace netpen::app::cli::profiles
