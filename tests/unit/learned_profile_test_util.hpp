// Test support for the learned profile (app/learn/profile_learner): a
// flow event as the learner sees it, and a profile's text read back the way
// --profile would, as the normalized option tokens (or the error).
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "app/cli/profiles/profile_resolver.hpp"
#include "app/cli/profiles/profile_tokens.hpp"
#include "net/events/event.hpp"

namespace netpen::test {

inline events::event learned_flow(events::kind k, std::string src, std::string dst, std::optional<std::string> name,
                                  std::string command = "curl -s http://x/", std::string protocol = "tcp") {
  events::event e;
  e.what = k;
  e.protocol = std::move(protocol);
  e.source = std::move(src);
  e.destination = std::move(dst);
  e.name = std::move(name);
  e.process = events::process_info{100, 2, std::move(command)};
  return e;
}

inline std::vector<std::string> profile_tokens(const std::string& text) {
  auto doc = app::cli::profiles::parse_config(text, "learned.toml");
  if (!doc) return {"error: " + doc.error().message};
  auto r = app::cli::profiles::resolve_profile(&*doc, "", [](const std::filesystem::path&) { return fail("x", "x"); });
  if (!r) return {"error: " + r.error().message};
  std::vector<std::string> out;
  for (const auto& t : app::cli::profiles::to_tokens(*r)) out.push_back(t.token);
  return out;
}

}  // namespace netpen::test
