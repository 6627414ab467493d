// Effective settings -> TOML (see print_config.hpp).
#include "app/cli/profiles/print_config.hpp"

#include <fmt/format.h>

#include <vector>

#include "app/cli/profiles/key_map.hpp"
#include "app/cli/profiles/profile_tokens.hpp"

namespace netpen::app::cli::profiles {
namespace {

// "http://u:secret@h:1" -> "http://u:<redacted>@h:1".
std::string redact_uri_password(const std::string& uri) {
  const auto scheme = uri.find("://");
  const std::size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  const auto at = uri.find('@', start);
  if (at == std::string::npos || uri.find('/', start) < at) return uri;
  const auto colon = uri.find(':', start);
  if (colon == std::string::npos || colon > at) return uri;
  return uri.substr(0, colon + 1) + std::string(redacted) + uri.substr(at);
}

std::string shown_value(const std::string& option, const std::string& value, const std::filesystem::path& cwd) {
  if (option == "--proxy-password") return std::string(redacted);
  if (option == "--proxy") return redact_uri_password(value);
  if (is_path_option(option) && !value.empty() && value.front() != '/')
    return (cwd / value).lexically_normal().string();
  return value;
}

std::string toml_array(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i == 0 ? "" : ", ") + toml_quote(items[i]);
  return out + "]";
}

}  // namespace

std::string toml_quote(std::string_view text) {
  std::string out = "\"";
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (ch == '"') out += "\\\"";
    else if (ch == '\\') out += "\\\\";
    else if (ch == '\n') out += "\\n";
    else if (ch == '\t') out += "\\t";
    else if (c < 0x20 || c == 0x7f) out += fmt::format("\\u{:04X}", c);
    else out += ch;
  }
  return out + "\"";
}

std::string render_config(std::span<const std::string> tokens, std::span<const std::string> command,
                          const std::filesystem::path& cwd) {
  std::string out = "# netpen --print-config: the effective settings (read back with --profile FILE)\n";
  for (const auto& key : profile_options()) {
    std::vector<std::string> values;
    bool present = false;
    for (const auto& t : tokens) {
      if (option_of(t) != key.option) continue;
      present = true;
      if (auto eq = t.find('='); eq != std::string::npos) values.push_back(shown_value(key.option, t.substr(eq + 1), cwd));
    }
    if (!present) continue;
    const std::string name = key.option.substr(2);
    if (key.shape == option_shape::flag) out += name + " = true\n";
    else if (key.shape == option_shape::list) out += name + " = " + toml_array(values) + "\n";
    else if (!values.empty()) out += name + " = " + toml_quote(values.back()) + "\n";
  }
  if (!command.empty()) out += "command = " + toml_array({command.begin(), command.end()}) + "\n";
  return out;
}

}  // namespace netpen::app::cli::profiles
