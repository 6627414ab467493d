// `netpen report LOG --format html`: one self-contained HTML page (inline
// CSS, a few lines of inline JS, a Content-Security-Policy that forbids
// every fetch) for a CI artifact: the run's header, the summary figures, a
// timeline of flows per process, bytes per destination and per claimed
// name, DNS questions with their answers, denials with reason and rule,
// proxy failures, errors and warnings. Every string from the log is
// escaped (a log is untrusted input). Pure: no I/O.
#pragma once
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "net/events/json_event.hpp"
#include "net/events/summary.hpp"

namespace netpen::events {

// One flow on the timeline.
struct timeline_flow {
  std::string protocol;
  std::string destination;  // the name when known, else the address, with the port
  std::chrono::system_clock::time_point start;
  std::chrono::milliseconds duration{0};
  std::string end;          // how it ended ("closed", ...); "open" when the log has no close; "denied"
  std::uint64_t bytes_out = 0;
  std::uint64_t bytes_in = 0;
};

// The flows of one process (by pid and command line), in start order.
struct timeline_lane {
  std::string process;  // "pid 4242: curl -s https://example.com", or "unknown process"
  std::vector<timeline_flow> flows;
};

// One DNS question and its answer (if any).
struct dns_exchange {
  std::chrono::system_clock::time_point time;
  std::string process;
  std::string query, query_type, rcode;  // rcode empty: no answer in the log
  std::vector<std::string> answers;
};

struct timeline {
  std::chrono::system_clock::time_point begin, end;  // the run's span (end > begin)
  std::vector<timeline_lane> lanes;                  // by first flow's start
  std::vector<dns_exchange> dns;                     // in question order
};

// Flows (an open matched with its close; a close alone placed by its
// duration; an open alone runs to the end; a denied flow is a point), DNS
// exchanges, grouped and ordered.
timeline build_timeline(const parsed_log& log);

// At most this many flows are drawn, and this many DNS rows listed; the page says how many were left out.
inline constexpr std::size_t html_max_flows = 2000;
inline constexpr std::size_t html_max_dns = 2000;

// Text safe in HTML content and in a double-quoted attribute; control
// characters shown as \xNN.
std::string html_escape(std::string_view text);

std::string render_html(const summary& s, const parsed_log& log);

}  // namespace netpen::events
