// A resolved profile as command-line tokens: the same "--long" /
// "--long=value" form parse_run's scan produces, so profile and command line
// go through one parser and one validation. `true` gives the flag, `false`
// nothing; a list gives one token per item. Each token remembers its
// setting, so an error about it can name the file, line and key.
#pragma once
#include <set>
#include <string>
#include <vector>

#include "app/cli/profiles/profile_resolver.hpp"

namespace netpen::app::cli::profiles {

struct profile_token {
  std::string option;  // "--allow"
  std::string token;   // "--allow=web.example"
  std::string value;   // "web.example" (empty for a flag)
  setting source;
};

std::vector<profile_token> to_tokens(const resolved_profile& profile);

// The tokens whose option is not in `given` (the options of the command
// line, which win: a list given there replaces the profile's).
std::vector<profile_token> without_options(std::vector<profile_token> tokens, const std::set<std::string>& given);

// The option of a "--long=value" token: "--long".
std::string option_of(std::string_view token);

}  // namespace netpen::app::cli::profiles
