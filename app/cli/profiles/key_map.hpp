// What a profile key means: the long option it sets ("allow_cidrs" ->
// "--allow"), found in the one option table (options.cpp) so no second list
// can drift. '_' and '-' are the same; childflow 0.8's names are aliases
// (default_policy, allow_cidrs, deny_cidrs, allow_domains, deny_domains,
// flow_log, capture, summary). "extends" and "command" are the profile's
// own keys. Also the type each option takes and which keys are paths.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/cli/profiles/toml_reader.hpp"
#include "net/common/error.hpp"

namespace netpen::app::cli::profiles {

enum class option_shape {
  flag,   // true / false
  value,  // one string
  list,   // a string or a list of strings; repeatable on the command line
};

struct option_key {
  std::string option;  // "--allow"
  option_shape shape = option_shape::value;
};

// "allow_cidrs" -> "allow-cidrs".
std::string normalize_key(std::string_view key);

// The option a key sets, or an error detail ("unknown key", "not allowed
// in a profile"). Does not know "extends" or "command".
result<option_key> map_key(std::string_view key);

// The setting's value has the option's shape (a "wrong type" error naming
// the setting otherwise) and holds no password redacted by --print-config.
result<void> check_value(const setting& s, const option_shape shape, std::string_view option);

// Options whose value is a path (resolved against a profile file's directory).
bool is_path_option(std::string_view option);

// Every option a profile may set, in the order of --help: for print_config.
std::vector<option_key> profile_options();

// The marker --print-config writes in place of a password.
inline constexpr std::string_view redacted = "<redacted>";

}  // namespace netpen::app::cli::profiles
