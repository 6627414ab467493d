// Config file + profile -> settings (see profile_resolver.hpp).
#include "app/cli/profiles/profile_resolver.hpp"

#include <algorithm>
#include <vector>

namespace netpen::app::cli::profiles {
namespace {

namespace fs = std::filesystem;

class resolver {
 public:
  explicit resolver(const file_loader& load) : load_(load) {}

  result<void> apply_document_top(const config_document& doc, bool is_profile_file) {
    const fs::path dir = fs::path(doc.file).parent_path();
    const setting* ext = find_extends(doc.top);
    if (ext != nullptr) {
      if (auto ok = apply_extends(*ext, doc, is_profile_file); !ok) return ok;
    }
    return apply_table(doc.top, is_profile_file ? std::optional<fs::path>(dir) : std::nullopt);
  }

  result<void> apply_named(const config_document& doc, const std::string& name, const setting* via) {
    auto it = std::ranges::find(doc.profiles, name, &profile_table::name);
    if (it == doc.profiles.end()) {
      std::string known;
      for (const auto& p : doc.profiles) known += (known.empty() ? "" : ", ") + p.name;
      std::string detail = "no [profile." + name + "] in " + doc.file + (known.empty() ? "" : " (profiles: " + known + ")");
      if (via != nullptr) return setting_error(*via, detail);
      return fail("bad-value", "--profile: " + detail);
    }
    if (auto ok = enter("profile " + name, via); !ok) return ok;
    if (const setting* ext = find_extends(it->settings)) {
      if (auto ok = apply_extends(*ext, doc, false); !ok) return ok;
    }
    return apply_table(it->settings, std::nullopt);
  }

  result<void> apply_file(const fs::path& path, const setting* via) {
    std::error_code ec;
    fs::path id = fs::weakly_canonical(path, ec);
    if (ec) id = path.lexically_normal();
    if (auto ok = enter(id.string(), via); !ok) return ok;
    auto doc = load_(path);
    if (!doc) {  // an unreadable file is named by the `extends` that names it
      if (via != nullptr && doc.error().message.find(": cannot read: ") != std::string::npos)
        return setting_error(*via, doc.error().message);
      return unexpected<error>(doc.error());
    }
    return apply_document_top(*doc, true);
  }

  // The config's own layer and the chosen profile are two chains.
  void new_chain() { chain_.clear(); }

  resolved_profile take() { return std::move(out_); }

 private:
  static const setting* find_extends(const std::vector<setting>& table) {
    for (const auto& s : table)
      if (normalize_key(s.key) == "extends") return &s;
    return nullptr;
  }

  result<void> apply_extends(const setting& ext, const config_document& doc, bool in_profile_file) {
    if (ext.value.kind != setting_value::type::string || ext.value.text.empty())
      return setting_error(ext, "a profile name or a file path expected");
    if (in_profile_file || is_profile_path(ext.value.text))
      return apply_file(fs::path(doc.file).parent_path() / ext.value.text, &ext);
    return apply_named(doc, ext.value.text, &ext);
  }

  // Cycle check: each profile or file once per chain.
  result<void> enter(const std::string& id, const setting* via) {
    if (std::ranges::find(chain_, id) != chain_.end()) {
      std::string path;
      for (const auto& c : chain_) path += c + " -> ";
      return setting_error(*via, "extends cycle: " + path + id);
    }
    chain_.push_back(id);
    return {};
  }

  result<void> apply_table(const std::vector<setting>& table, const std::optional<fs::path>& base_dir) {
    std::map<std::string, applied_setting> layer;
    for (const auto& s : table) {
      const std::string key = normalize_key(s.key);
      if (key == "extends") continue;
      if (key == "command") {
        if (s.value.kind != setting_value::type::list || s.value.items.empty())
          return setting_error(s, "a non-empty list of strings expected (the command and its arguments)");
        out_.command = s;
        continue;
      }
      auto mapped = map_key(s.key);
      if (!mapped) return setting_error(s, mapped.error().message);
      if (auto ok = check_value(s, mapped->shape, mapped->option); !ok) return ok;
      applied_setting a{s, *mapped};
      if (base_dir && is_path_option(mapped->option)) resolve_paths(a.source.value, *base_dir);
      if (auto ok = add_to_layer(layer, std::move(a)); !ok) return ok;
    }
    for (auto& [option, a] : layer) out_.options.insert_or_assign(option, std::move(a));
    return {};
  }

  static result<void> add_to_layer(std::map<std::string, applied_setting>& layer, applied_setting a) {
    auto [it, inserted] = layer.try_emplace(a.key.option, a);
    if (inserted) return {};
    if (a.key.shape != option_shape::list)
      return setting_error(a.source, "sets " + a.key.option + " as key '" + it->second.source.key + "' does");
    auto& items = it->second.source.value.items;
    auto to_list = [](setting_value& v) {
      if (v.kind == setting_value::type::string) v.items = {v.text};
      v.kind = setting_value::type::list;
    };
    to_list(it->second.source.value);
    to_list(a.source.value);
    items.insert(items.end(), a.source.value.items.begin(), a.source.value.items.end());
    return {};
  }

  static void resolve_paths(setting_value& v, const fs::path& dir) {
    auto resolve = [&](std::string& p) {
      if (!p.empty() && p.front() != '/') p = (dir / p).lexically_normal().string();
    };
    resolve(v.text);
    for (auto& item : v.items) resolve(item);
  }

  const file_loader& load_;
  std::vector<std::string> chain_;
  resolved_profile out_;
};

}  // namespace

bool is_profile_path(std::string_view value) {
  return value.find('/') != std::string_view::npos || value.ends_with(".toml");
}

result<resolved_profile> resolve_profile(const config_document* config, std::string_view profile,
                                         const file_loader& load) {
  resolver r(load);
  if (config != nullptr) {
    if (auto ok = r.apply_document_top(*config, false); !ok) return unexpected<error>(ok.error());
  }
  if (!profile.empty()) {
    r.new_chain();
    if (is_profile_path(profile)) {
      if (auto ok = r.apply_file(std::string(profile), nullptr); !ok) return unexpected<error>(ok.error());
    } else {
      if (config == nullptr)
        return fail("bad-value", "--profile " + std::string(profile) +
                                     ": no config file (--config FILE, $XDG_CONFIG_HOME/netpen/config.toml or "
                                     "/etc/netpen/config.toml)");
      if (auto ok = r.apply_named(*config, std::string(profile), nullptr); !ok) return unexpected<error>(ok.error());
    }
  }
  return r.take();
}

}  // namespace netpen::app::cli::profiles
