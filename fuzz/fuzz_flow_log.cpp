// libFuzzer target: the flow-log reader behind `netpen report` (net/events
// json_event parse_log) and everything report does with what it read: the
// summary and its text, Markdown, JSON and HTML renderings, and the profile
// learned from it (app/learn). The log is untrusted: its names, paths and
// command lines came from the tree. Oracles besides the sanitizers: every
// record read writes back to a line that reads back to the same line (the
// writer and the reader agree); the learned profile is TOML that netpen's
// own profile loader accepts, holding only the policy (text from the log
// cannot inject a setting), each entry one --allow takes.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <sstream>
#include <string>
#include <string_view>

#include "app/cli/policy_entry.hpp"
#include "app/cli/profiles/profile_resolver.hpp"
#include "app/cli/profiles/toml_reader.hpp"
#include "app/learn/profile_learner.hpp"
#include "fuzz/fuzz_require.hpp"
#include "net/events/json_event.hpp"
#include "net/events/report_html.hpp"
#include "net/events/summary.hpp"

namespace {

using namespace netpen;

void check_round_trip(const events::parsed_log& log) {
  for (const auto& e : log.events) {
    const std::string line = events::to_json_line(e);
    const auto again = events::from_json_line(line);
    FUZZ_REQUIRE(again.has_value());
    FUZZ_REQUIRE(events::to_json_line(*again) == line);
  }
  if (log.start) {
    const std::string line = events::run_start_line(*log.start);
    const auto again = events::parse_record(line);
    FUZZ_REQUIRE(again.has_value() && std::holds_alternative<events::run_info>(*again));
    FUZZ_REQUIRE(events::run_start_line(std::get<events::run_info>(*again)) == line);
  }
  if (log.end) {
    const std::string line = events::run_end_line(*log.end);
    const auto again = events::parse_record(line);
    FUZZ_REQUIRE(again.has_value() && std::holds_alternative<events::run_end>(*again));
    FUZZ_REQUIRE(events::run_end_line(std::get<events::run_end>(*again)) == line);
  }
}

void check_learned_profile(const events::parsed_log& log) {
  app::learn::profile_learner learner;
  for (const auto& e : log.events) learner.add(e);
  const std::string toml = learner.render(log.start);
  const auto doc = app::cli::profiles::parse_config(toml, "learned.toml");
  if (!doc) std::fprintf(stderr, "learned:\n%s\nrefused: %s\n", toml.c_str(), doc.error().message.c_str());
  FUZZ_REQUIRE(doc.has_value());
  const auto no_files = [](const std::filesystem::path&) -> netpen::result<app::cli::profiles::config_document> {
    return netpen::fail("fuzz", "no files");
  };
  const auto resolved = app::cli::profiles::resolve_profile(&*doc, "", no_files);
  if (!resolved) std::fprintf(stderr, "learned:\n%s\nrefused: %s\n", toml.c_str(), resolved.error().message.c_str());
  FUZZ_REQUIRE(resolved.has_value());
  // Nothing but the policy: no text of the log became a setting of its own.
  for (const auto& [option, applied] : resolved->options) {
    FUZZ_REQUIRE(option == "--default-policy" || option == "--allow");
    for (const auto& item : applied.source.value.items) FUZZ_REQUIRE(app::cli::parse_policy_entry(item).has_value());
  }
  FUZZ_REQUIRE(!resolved->command.has_value());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  const auto log = events::parse_log(in);
  if (!log) return 0;
  check_round_trip(*log);
  events::summary_builder builder;
  if (log->start) builder.start(*log->start);
  for (const auto& e : log->events) builder.add(e);
  if (log->end) builder.finish(*log->end);
  const auto s = builder.result();
  (void)events::render_text(s);
  (void)events::render_markdown(s);
  (void)events::render_json(s);
  (void)events::render_html(s, *log);
  check_learned_profile(*log);
  return 0;
}
