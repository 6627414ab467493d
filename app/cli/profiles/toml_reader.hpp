// Reading a netpen config or profile file: TOML (toml++) -> flat lists of
// settings (key, value, file, line), top-level keys apart from the
// [profile.NAME] tables. Only the shapes netpen's options take are kept:
// booleans, strings (integers read as their decimal text) and arrays of
// strings; anything else is a "wrong type" error naming file, line and key.
// What the keys mean is key_map's; how profiles combine is profile_resolver's.
#pragma once
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "net/common/error.hpp"

namespace netpen::app::cli::profiles {

struct setting_value {
  enum class type { boolean, string, list };
  type kind = type::string;
  bool flag = false;               // boolean
  std::string text;                // string (an integer as its decimal text)
  std::vector<std::string> items;  // list
};

struct setting {
  std::string key;  // as written in the file ("allow_cidrs")
  setting_value value;
  std::string file;  // the file as it was named (for messages)
  int line = 0;
};

struct profile_table {
  std::string name;
  int line = 0;  // of its [profile.NAME] header
  std::vector<setting> settings;
};

struct config_document {
  std::string file;
  std::vector<setting> top;             // top-level keys
  std::vector<profile_table> profiles;  // [profile.NAME], sorted by name
};

// "FILE:LINE: key 'KEY': DETAIL" (the one-line error of a bad setting).
std::string where(const setting& s);
unexpected<error> setting_error(const setting& s, std::string_view detail);

// Pure: parses `text`, naming `file` in errors ("FILE:LINE: ...", code
// "bad-value").
result<config_document> parse_config(std::string_view text, const std::string& file);

// Reads and parses a file ("FILE: cannot read: REASON" when unreadable).
result<config_document> read_config(const std::filesystem::path& file);

}  // namespace netpen::app::cli::profiles
