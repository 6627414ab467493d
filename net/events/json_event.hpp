// The flow log's JSON Lines form (documented for users in docs/flow-log.md):
// one record a line, a run_start first, events, a run_end last. Writing
// events and the two run records, reading them back, and reading a whole
// log. Pure: no I/O beyond the istream parse_log is handed.
#pragma once
#include <chrono>
#include <cstddef>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "net/common/error.hpp"
#include "net/events/event.hpp"
#include "net/events/run_info.hpp"

namespace netpen::events {

// The "schema_version" this netpen writes and the newest it reads (it reads
// every older one too). 2: flow events carry what a flow's first bytes
// claimed (sni, alpn, http_method, http_host, http_path).
inline constexpr int flow_log_schema_version = 2;

// RFC 3339 in UTC with microseconds: "2026-11-22T10:35:02.123456Z" (truncated,
// not rounded). parse_time also takes 0-9 fraction digits and a numeric
// offset ("+01:00"), and returns the UTC instant.
std::string format_time(std::chrono::system_clock::time_point t);
result<std::chrono::system_clock::time_point> parse_time(std::string_view text);

// The "event" values: "dns_query", ..., "error", "warning" (event.hpp's
// to_string is the text for people; these are the stable names for programs).
std::string_view json_name(kind k);
std::optional<kind> kind_from_json_name(std::string_view name);

// One line each, without the trailing newline. Strings that are not valid
// UTF-8 (a DNS name, a command line) are written with U+FFFD in their place.
std::string to_json_line(const event& e);
std::string run_start_line(const run_info& info);
std::string run_end_line(const run_end& end);

// Reading one line. Error codes: "flow-log-too-new" (schema_version above
// flow_log_schema_version), "unknown-event" (an "event" value this netpen
// does not know), "bad-flow-log" (anything else). Unknown fields are ignored.
using log_record = std::variant<run_info, event, run_end>;
result<log_record> parse_record(std::string_view line);
// An event line only: run_start/run_end lines are "bad-flow-log" here.
result<event> from_json_line(std::string_view line);

struct parsed_log {
  std::optional<run_info> start;  // absent if the log has no run_start line
  std::vector<event> events;
  std::optional<run_end> end;     // absent if the run never finished (netpen killed)
  std::size_t skipped = 0;        // lines with an event kind from a newer netpen
  bool truncated = false;         // the last line was cut short (no newline, not JSON)
};

// A whole log. Blank lines are ignored; run_start may only be the first
// record and run_end only the last. Errors name the line: "line 3: ...".
result<parsed_log> parse_log(std::istream& in);

}  // namespace netpen::events
