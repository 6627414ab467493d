// TOML -> settings (see toml_reader.hpp).
#include "app/cli/profiles/toml_reader.hpp"

#include "app/cli/profiles/toml_guard.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <toml++/toml.h>

namespace netpen::app::cli::profiles {
namespace {

int line_of(const toml::node& n) { return static_cast<int>(n.source().begin.line); }

// One scalar as text, when it has a string or integer shape.
std::optional<std::string> scalar_text(const toml::node& n) {
  if (const auto* s = n.as_string()) return s->get();
  if (const auto* i = n.as_integer()) return std::to_string(i->get());
  return std::nullopt;
}

result<setting> read_setting(std::string_view key, const toml::node& node, const std::string& file) {
  setting s{std::string(key), {}, file, line_of(node)};
  if (const auto* b = node.as_boolean()) {
    s.value.kind = setting_value::type::boolean;
    s.value.flag = b->get();
  } else if (auto text = scalar_text(node)) {
    s.value.text = std::move(*text);
  } else if (const auto* arr = node.as_array()) {
    s.value.kind = setting_value::type::list;
    for (const auto& item : *arr) {
      auto item_text = scalar_text(item);
      if (!item_text) return setting_error(s, "a list of strings expected");
      s.value.items.push_back(std::move(*item_text));
    }
  } else {
    return setting_error(s, "a string, true/false or a list of strings expected");
  }
  return s;
}

result<std::vector<setting>> read_table(const toml::table& table, const std::string& file, bool skip_profiles) {
  std::vector<setting> out;
  for (const auto& [key, node] : table) {
    if (skip_profiles && key.str() == "profile" && node.is_table()) continue;
    auto s = read_setting(key.str(), node, file);
    if (!s) return unexpected<error>(s.error());
    out.push_back(std::move(*s));
  }
  return out;
}

}  // namespace

std::string where(const setting& s) { return s.file + ":" + std::to_string(s.line) + ": key '" + s.key + "'"; }

unexpected<error> setting_error(const setting& s, std::string_view detail) {
  return fail("bad-value", where(s) + ": " + std::string(detail));
}

result<config_document> parse_config(std::string_view text, const std::string& file) {
  if (auto line = unsafe_non_ascii_line(text))
    return fail("bad-value", file + ":" + std::to_string(*line) +
                                 ": invalid TOML: a non-ASCII character outside a string or comment"
                                 " (or right after a line-ending backslash)");
  toml::table root;
  try {
    root = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    return fail("bad-value",
                file + ":" + std::to_string(e.source().begin.line) + ": invalid TOML: " + std::string(e.description()));
  }
  config_document doc{file, {}, {}};
  auto top = read_table(root, file, true);
  if (!top) return unexpected<error>(top.error());
  doc.top = std::move(*top);
  if (const toml::node* p = root.get("profile"); p != nullptr && p->is_table()) {
    for (const auto& [name, node] : *p->as_table()) {
      const toml::table* t = node.as_table();
      if (t == nullptr) {
        setting s{"profile." + std::string(name.str()), {}, file, line_of(node)};
        return setting_error(s, "a [profile.NAME] table expected");
      }
      auto settings = read_table(*t, file, false);
      if (!settings) return unexpected<error>(settings.error());
      doc.profiles.push_back({std::string(name.str()), line_of(node), std::move(*settings)});
    }
  }
  return doc;
}

result<config_document> read_config(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  std::string text;
  int err = fd < 0 ? errno : 0;
  char buf[16384];
  while (fd >= 0 && err == 0) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) err = errno;
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  if (fd >= 0) ::close(fd);
  if (err != 0) return fail("bad-value", file.string() + ": cannot read: " + std::strerror(err));
  return parse_config(text, file.string());
}

}  // namespace netpen::app::cli::profiles
