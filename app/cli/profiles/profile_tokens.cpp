// Profile -> tokens (see profile_tokens.hpp).
#include "app/cli/profiles/profile_tokens.hpp"

#include <algorithm>

namespace netpen::app::cli::profiles {

std::vector<profile_token> to_tokens(const resolved_profile& profile) {
  std::vector<profile_token> out;
  for (const auto& [option, a] : profile.options) {
    const setting_value& v = a.source.value;
    switch (v.kind) {
      case setting_value::type::boolean:
        if (v.flag) out.push_back({option, option, "", a.source});
        break;
      case setting_value::type::string: out.push_back({option, option + "=" + v.text, v.text, a.source}); break;
      case setting_value::type::list:
        for (const auto& item : v.items) out.push_back({option, option + "=" + item, item, a.source});
        break;
    }
  }
  return out;
}

std::vector<profile_token> without_options(std::vector<profile_token> tokens, const std::set<std::string>& given) {
  std::erase_if(tokens, [&](const profile_token& t) { return given.contains(t.option); });
  return tokens;
}

std::string option_of(std::string_view token) { return std::string(token.substr(0, token.find('='))); }

}  // namespace netpen::app::cli::profiles
