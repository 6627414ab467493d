// netpen doctor's text and JSON output (see report.hpp).
#include "app/doctor/report.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace netpen::app::doctor {
namespace {

std::string_view level_word(need n) {
  switch (n) {
    case need::required: return "required";
    case need::recommended: return "recommended";
    case need::info: break;
  }
  return "info";
}

std::string_view backend_name(bool rootful) { return rootful ? "rootful" : "rootless"; }

}  // namespace

bool backend_can_run(const std::vector<check_result>& checks) {
  return std::ranges::all_of(checks, [](const check_result& c) { return c.ok || c.level != need::required; });
}

std::string_view state_word(const check_result& c) {
  if (c.ok) return "ok";
  switch (c.level) {
    case need::required: return "FAIL";
    case need::recommended: return "warn";
    case need::info: break;
  }
  return "note";
}

std::string render_text(const std::vector<check_result>& checks, bool rootful) {
  std::size_t width = 0;
  for (const auto& c : checks) width = std::max(width, c.name.size());
  std::string out = fmt::format("netpen doctor: the {} backend{}\n", backend_name(rootful),
                                rootful ? " (--root)" : " (the default; 'netpen doctor --root' checks --root)");
  std::size_t warnings = 0;
  for (const auto& c : checks) {
    out += fmt::format("{:<4}  {:<{}}  {}\n", state_word(c), c.name, width, c.detail);
    if (!c.fix.empty()) out += fmt::format("{:<4}  {:<{}}  fix: {}\n", "", "", width, c.fix);
    if (!c.ok && c.level == need::recommended) ++warnings;
  }
  const bool ready = backend_can_run(checks);
  std::vector<std::string> failed;
  for (const auto& c : checks)
    if (!c.ok && c.level == need::required) failed.push_back(c.name);
  if (ready)
    out += fmt::format("ready: the {} backend can run{}\n", backend_name(rootful),
                       warnings == 0 ? "" : fmt::format(" ({} warning{})", warnings, warnings == 1 ? "" : "s"));
  else
    out += fmt::format("not ready: the {} backend cannot run until {} {} fixed\n", backend_name(rootful),
                       fmt::join(failed, ", "), failed.size() == 1 ? "is" : "are");
  return out;
}

std::string render_json(const std::vector<check_result>& checks, bool rootful) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& c : checks)
    list.push_back({{"name", c.name}, {"ok", c.ok}, {"level", level_word(c.level)}, {"detail", c.detail},
                    {"fix", c.fix}});
  const nlohmann::json j{{"backend", backend_name(rootful)}, {"ready", backend_can_run(checks)}, {"checks", list}};
  return j.dump() + "\n";
}

}  // namespace netpen::app::doctor
