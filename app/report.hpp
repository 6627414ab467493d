// `netpen report FLOW_LOG [--format text|markdown|json|html|profile]`: the
// run summary of a saved flow log (docs/flow-log.md, docs/report.md), or the
// profile learned from it (app/learn), printed on stdout.
#pragma once
#include <string>
#include <vector>

#include "app/run_config.hpp"
#include "net/common/error.hpp"

namespace netpen::app {

struct report_output {
  std::string text;                   // the rendered summary, ending in a newline
  std::vector<std::string> warnings;  // for `netpen: warning: ...` (cut-off log, skipped events)
};

// Reads and summarises the log. Error codes: "bad-value" (cannot read the
// file), "bad-flow-log" / "flow-log-too-new" (a bad line, named by number).
// Messages start with "report: ".
result<report_output> render_report(const std::string& path, report_format format);

// The subcommand: prints the report and returns 0, or prints
// `netpen: error: ...` and returns 2 (bad input, like a usage error).
int run_report(const report_command& cmd);

}  // namespace netpen::app
