// The I/O side of profiles: finds the config file (--config FILE, else the
// default lookup of config_location.hpp), reads it and the profile files it
// leads to, and returns the profile as command-line tokens. Also rewrites an
// error about an option that came from a profile so that it names the file,
// line and key instead of the flag.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/cli/profiles/profile_tokens.hpp"
#include "net/common/error.hpp"

namespace netpen::app::cli::profiles {

struct loaded_profile {
  std::vector<profile_token> tokens;
  std::vector<std::string> command;  // `command = [...]`, empty when none
};

// `config_arg`: the --config value (empty: the default lookup; no file there
// is no profile). `profile_arg`: the --profile value, empty when none.
result<loaded_profile> load_profile(std::string_view config_arg, std::string_view profile_arg);

// `e` names a flag (build_config's messages start with it): when that
// option came from `tokens`, "FILE:LINE: key 'KEY': DETAIL" instead.
error attribute_error(const error& e, const std::vector<profile_token>& tokens);

}  // namespace netpen::app::cli::profiles
