// default_config_path and profile_names (see config_location.hpp).
#include "app/cli/profiles/config_location.hpp"

#include <algorithm>
#include <cstdlib>
#include <system_error>

#include <toml++/toml.h>

namespace netpen::app::cli::profiles {
namespace {

bool is_file(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::is_regular_file(p, ec);
}

}  // namespace

std::optional<std::filesystem::path> default_config_path() {
  std::vector<std::filesystem::path> candidates;
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg != nullptr && *xdg == '/')
    candidates.emplace_back(std::filesystem::path(xdg) / "netpen" / "config.toml");
  else if (const char* home = std::getenv("HOME"); home != nullptr && *home == '/')
    candidates.emplace_back(std::filesystem::path(home) / ".config" / "netpen" / "config.toml");
  candidates.emplace_back("/etc/netpen/config.toml");
  for (const auto& c : candidates)
    if (is_file(c)) return c;
  return std::nullopt;
}

std::vector<std::string> profile_names(const std::filesystem::path& file) {
  std::vector<std::string> names;
  try {
    const toml::table root = toml::parse_file(file.string());
    if (const toml::table* table = root["profile"].as_table())
      for (const auto& [key, value] : *table)
        if (value.is_table()) names.emplace_back(key.str());
  } catch (const std::exception&) {
    return {};
  }
  std::ranges::sort(names);
  return names;
}

}  // namespace netpen::app::cli::profiles
