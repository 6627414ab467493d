// Profile keys -> long options (see key_map.hpp).
#include "app/cli/profiles/key_map.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "app/cli/options.hpp"

namespace netpen::app::cli::profiles {
namespace {

// childflow 0.8's key names that are not already option names.
constexpr std::array<std::pair<std::string_view, std::string_view>, 4> aliases{{
    {"allow-cidrs", "allow"},
    {"deny-cidrs", "deny"},
    {"allow-domains", "allow"},
    {"deny-domains", "deny"},
}};

// Options that make no sense inside a profile.
constexpr std::array<std::string_view, 6> refused{"config", "profile", "print-config", "help", "version",
                                                  "dump-profile"};

constexpr std::array<std::string_view, 7> path_options{"--hosts-file",          "--allow-file", "--deny-file",
                                                       "--proxy-password-file", "--output",     "--log",
                                                       "--learn"};

// The option table, built once (raw must outlive the app).
struct option_table {
  raw_options raw;
  std::unique_ptr<CLI::App> app = make_options_app(raw);
};
const CLI::App& table() {
  static const option_table t;
  return *t.app;
}

option_shape shape_of(const CLI::Option& opt) {
  if (!takes_value(opt)) return option_shape::flag;
  return repeatable(opt) ? option_shape::list : option_shape::value;
}

}  // namespace

std::string normalize_key(std::string_view key) {
  std::string out(key);
  std::ranges::replace(out, '_', '-');
  return out;
}

result<option_key> map_key(std::string_view key) {
  std::string name = normalize_key(key);
  for (const auto& [alias, option] : aliases)
    if (name == alias) name = option;
  if (std::ranges::find(refused, name) != refused.end())
    return fail("bad-value", "not allowed in a profile (a command-line option only)");
  const CLI::Option* opt = name.empty() || name.front() == '-' ? nullptr : table().get_option_no_throw("--" + name);
  if (opt == nullptr || opt->get_lnames().empty()) return fail("bad-value", "unknown key");
  return option_key{"--" + opt->get_lnames().front(), shape_of(*opt)};
}

result<void> check_value(const setting& s, const option_shape shape, std::string_view option) {
  using type = setting_value::type;
  const auto& v = s.value;
  if (shape == option_shape::flag && v.kind != type::boolean) return setting_error(s, "true or false expected");
  if (shape == option_shape::value && v.kind != type::string) return setting_error(s, "a string expected");
  if (shape == option_shape::list && v.kind == type::boolean)
    return setting_error(s, "a string or a list of strings expected");
  auto has_redacted = [&](const std::string& text) {
    if (option == "--proxy-password") return text == redacted;
    return option == "--proxy" && text.find(":" + std::string(redacted) + "@") != std::string::npos;
  };
  if (has_redacted(v.text))
    return setting_error(s, "the password was redacted by --print-config; write it back, or use "
                            "proxy-password-file or NETPEN_PROXY_PASSWORD");
  for (const auto& item : v.items)
    if (item.empty()) return setting_error(s, "empty value in the list");
  if (v.kind == type::string && v.text.empty()) return setting_error(s, "empty value");
  return {};
}

bool is_path_option(std::string_view option) { return std::ranges::find(path_options, option) != path_options.end(); }

std::vector<option_key> profile_options() {
  std::vector<option_key> out;
  for (const CLI::Option* opt : table().get_options()) {
    if (opt->get_lnames().empty()) continue;
    const std::string& name = opt->get_lnames().front();
    if (std::ranges::find(refused, name) != refused.end()) continue;
    out.push_back({"--" + name, shape_of(*opt)});
  }
  return out;
}

}  // namespace netpen::app::cli::profiles
