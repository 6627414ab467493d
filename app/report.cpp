// `netpen report`: parse_log -> summary_builder -> render_* (see report.hpp).
#include "app/report.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <sstream>

#include "app/cli/validators.hpp"
#include "app/learn/profile_learner.hpp"
#include "net/common/log.hpp"
#include "net/events/json_event.hpp"
#include "net/events/report_html.hpp"
#include "net/events/summary.hpp"

namespace netpen::app {

result<report_output> render_report(const std::string& path, report_format format) {
  auto contents = cli::read_file_for("report", path);
  if (!contents) return unexpected<error>(contents.error());
  std::istringstream in(std::move(*contents));
  auto log = events::parse_log(in);
  if (!log) return fail(log.error().code, fmt::format("report: '{}', {}", path, log.error().message));

  report_output out;
  if (format == report_format::profile) {  // learn, then enforce (app/learn)
    learn::profile_learner learner;
    for (const auto& e : log->events) learner.add(e);
    out.text = learner.render(log->start);
  }
  events::summary_builder builder;
  if (log->start) builder.start(*log->start);
  for (const auto& e : log->events) builder.add(e);
  if (log->end) builder.finish(*log->end);
  const events::summary s = builder.result();

  switch (format) {
    case report_format::text: out.text = events::render_text(s); break;
    case report_format::markdown: out.text = events::render_markdown(s); break;
    case report_format::json: out.text = events::render_json(s); break;
    case report_format::html: out.text = events::render_html(s, *log); break;
    case report_format::profile: break;
  }
  if (log->truncated) out.warnings.push_back(fmt::format("report: '{}' ends in a cut-off line (ignored)", path));
  if (log->skipped > 0)
    out.warnings.push_back(fmt::format("report: '{}': {} event{} of a kind this netpen does not know (skipped)", path,
                                       log->skipped, log->skipped == 1 ? "" : "s"));
  if (!log->start) out.warnings.push_back(fmt::format("report: '{}' has no run_start record", path));
  return out;
}

int run_report(const report_command& cmd) {
  auto out = render_report(cmd.flow_log, cmd.format);
  if (!out) {
    log::error("{}", out.error().message);
    return 2;
  }
  for (const auto& w : out->warnings) log::warn("{}", w);
  fmt::print("{}", out->text);
  std::fflush(stdout);
  return 0;
}

}  // namespace netpen::app
