// Config lookup, file reading, error attribution (see profile_loader.hpp).
#include "app/cli/profiles/profile_loader.hpp"

#include "app/cli/profiles/config_location.hpp"
#include "app/cli/profiles/profile_resolver.hpp"

namespace netpen::app::cli::profiles {

result<loaded_profile> load_profile(std::string_view config_arg, std::string_view profile_arg) {
  std::optional<config_document> config;
  std::optional<std::filesystem::path> path;
  if (!config_arg.empty()) path = std::filesystem::path(config_arg);
  else path = default_config_path();
  if (path) {
    auto doc = read_config(*path);
    if (!doc) {
      if (!config_arg.empty() && doc.error().message.find(": cannot read: ") != std::string::npos)
        return fail("bad-value", "--config: " + doc.error().message);
      return unexpected<error>(doc.error());
    }
    config = std::move(*doc);
  }
  auto resolved = resolve_profile(config ? &*config : nullptr, profile_arg, read_config);
  if (!resolved) return unexpected<error>(resolved.error());
  loaded_profile out;
  out.tokens = to_tokens(*resolved);
  if (resolved->command) out.command = resolved->command->value.items;
  return out;
}

error attribute_error(const error& e, const std::vector<profile_token>& tokens) {
  const profile_token* culprit = nullptr;
  for (const auto& t : tokens) {
    const std::string& m = e.message;
    if (!m.starts_with(t.option) || m.size() == t.option.size()) continue;
    const char next = m[t.option.size()];
    if (next != ':' && next != ' ') continue;
    const bool names_value = !t.value.empty() && m.find("'" + t.value + "'") != std::string::npos;
    if (culprit == nullptr || names_value) culprit = &t;
    if (names_value) break;
  }
  if (culprit == nullptr) return e;
  std::string detail = e.message;
  if (detail.starts_with(culprit->option + ": ")) detail = detail.substr(culprit->option.size() + 2);
  return error{e.code, where(culprit->source) + ": " + detail};
}

}  // namespace netpen::app::cli::profiles
