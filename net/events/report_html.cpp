// The HTML report (see report_html.hpp): sections rendered one function
// each into one string; the timeline's flows are CSS bars placed by start
// and length as percentages of the run.
#include "net/events/report_html.hpp"

#include <fmt/format.h>

#include "net/events/report_html_tables.hpp"
#include "net/events/text_util.hpp"

namespace netpen::events {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

std::string esc(std::string_view text) { return html_escape(text); }

constexpr std::string_view style = R"(
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1b1f24;background:#fff}
h1{font-size:1.5em;margin:0 0 .5em}h2{font-size:1.2em;margin:1.6em 0 .5em;border-bottom:1px solid #d0d7de}
h3{font-size:1em;margin:.8em 0 .3em;font-family:ui-monospace,monospace;overflow-wrap:anywhere}
table{border-collapse:collapse;margin:.3em 0}td,th{border:1px solid #d0d7de;padding:.2em .6em;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.nw{white-space:nowrap}td.n{text-align:right;font-variant-numeric:tabular-nums}
code,.mono{font-family:ui-monospace,monospace;overflow-wrap:anywhere}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em;margin:0}dt{font-weight:600}dd{margin:0}
.figures{display:flex;flex-wrap:wrap;gap:.6em}.figure{border:1px solid #d0d7de;border-radius:6px;padding:.4em .8em;min-width:7em}
.figure b{display:block;font-size:1.4em}.bad{color:#b42318}.ok{color:#1a7f37}
.flow{display:grid;grid-template-columns:22em 1fr 16em;gap:.6em;align-items:center;font-size:12px}
.flow .label,.flow .meta{font-family:ui-monospace,monospace;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.track{position:relative;height:12px;background:#f6f8fa;border-radius:2px}
.bar{position:absolute;top:1px;height:10px;min-width:3px;border-radius:2px;background:#2da44e}
.bar.open{background:#8c959f}.bar.denied{background:#cf222e;width:4px}.bar.failed{background:#d4a72c}
.axis{display:grid;grid-template-columns:22em 1fr 16em;gap:.6em;font-size:11px;color:#57606a}
.axis .ticks{display:flex;justify-content:space-between}.note{color:#57606a}
)";

// The small inline script: proves the page ran without errors (the e2e
// test looks for data-report="rendered") and counts the rows.
constexpr std::string_view script = R"(
(function () {
  var rows = document.querySelectorAll('tbody tr, .flow').length;
  document.body.setAttribute('data-rows', String(rows));
  document.body.setAttribute('data-report', 'rendered');
})();
)";

std::string time_text(std::chrono::system_clock::time_point t) { return format_time(t); }

std::string header(const summary& s, const parsed_log& log) {
  std::string out = "<header><h1>netpen report</h1><dl>\n";
  auto row = [&](std::string_view key, const std::string& html) {
    out += fmt::format("<dt>{}</dt><dd>{}</dd>\n", key, html);
  };
  row("command", s.command.empty() ? "unknown" : "<code>" + esc(s.command) + "</code>");
  row("backend", s.backend.empty() ? "unknown" : esc(s.backend));
  if (!s.netpen_version.empty()) row("netpen", esc(s.netpen_version));
  std::string controls;
  for (const auto& c : s.controls) controls += (controls.empty() ? "" : ", ") + ("<code>" + esc(c) + "</code>");
  row("controls", controls.empty() ? "none" : controls);
  if (s.capture) row("capture", "<code>" + esc(*s.capture) + "</code>");
  row("start", log.start ? esc(time_text(log.start->time)) : "unknown");
  row("end", log.end ? esc(time_text(log.end->time)) : "unknown (the run did not finish)");
  row("duration", s.duration ? esc(human_duration(*s.duration)) : "unknown");
  row("exit status", s.exit_status ? fmt::format("<b class=\"{}\" id=\"exit-status\">{}</b>",
                                                 *s.exit_status == 0 ? "ok" : "bad", *s.exit_status)
                                   : "unknown");
  return out + "</dl></header>\n";
}

std::uint64_t total_count(const std::vector<event_group>& groups) {
  std::uint64_t n = 0;
  for (const auto& g : groups) n += g.count;
  return n;
}

std::string figures(const summary& s) {
  std::uint64_t flows = 0, out_bytes = 0, in_bytes = 0;
  for (const auto& p : s.protocols) flows += p.flows, out_bytes += p.bytes_out, in_bytes += p.bytes_in;
  std::string out = "<section id=\"summary\"><h2>Summary</h2><div class=\"figures\">\n";
  auto fig = [&](std::string_view label, const std::string& value, bool bad = false) {
    out += fmt::format("<div class=\"figure\"><b{}>{}</b>{}</div>\n", bad ? " class=\"bad\"" : "", value, label);
  };
  fig("flows", std::to_string(flows));
  fig("bytes out", esc(human_bytes(out_bytes)));
  fig("bytes in", esc(human_bytes(in_bytes)));
  fig("destinations", std::to_string(s.destinations));
  fig("claimed names", std::to_string(s.names));
  fig("DNS queries", std::to_string(s.dns_queries));
  fig("DNS failed", std::to_string(s.dns_failed), s.dns_failed > 0);
  fig("denied", std::to_string(total_count(s.denials)), !s.denials.empty());
  fig("errors", std::to_string(total_count(s.errors) + total_count(s.proxy_failures)), !s.errors.empty());
  fig("events", std::to_string(s.events));
  out += "</div>\n";
  if (!s.protocols.empty()) {
    out += "<table><thead><tr><th>protocol</th><th>flows</th><th>bytes out</th><th>bytes in</th></tr></thead><tbody>\n";
    for (const auto& p : s.protocols)
      out += fmt::format("<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n",
                         esc(p.protocol), p.flows, esc(human_bytes(p.bytes_out)), esc(human_bytes(p.bytes_in)));
    out += "</tbody></table>\n";
  }
  return out + "</section>\n";
}

std::string bar_class(std::string_view end) {
  if (end == "closed" || end == "shutdown") return "bar";
  if (end == "open") return "bar open";
  if (end == "denied") return "bar denied";
  return "bar failed";
}

std::string flow_row(const timeline& t, const timeline_flow& f) {
  const double span = static_cast<double>(duration_cast<std::chrono::microseconds>(t.end - t.begin).count());
  const double left = static_cast<double>(duration_cast<std::chrono::microseconds>(f.start - t.begin).count());
  const double width = static_cast<double>(duration_cast<std::chrono::microseconds>(f.duration).count());
  const double l = std::clamp(100.0 * left / span, 0.0, 100.0);
  const double w = std::clamp(100.0 * width / span, 0.0, 100.0 - l);
  const std::string what = fmt::format("{} {} {}", f.protocol, f.destination, f.end);
  const std::string meta = f.end == "denied" ? "denied"
                                             : fmt::format("{} {} \u2191{} \u2193{}", f.end, human_duration(f.duration),
                                                           human_bytes(f.bytes_out), human_bytes(f.bytes_in));
  return fmt::format(
      "<div class=\"flow\"><span class=\"label\" title=\"{0}\">{1} {2}</span><span class=\"track\"><span "
      "class=\"{3}\" style=\"left:{4:.2f}%;width:{5:.2f}%\" title=\"{0}\"></span></span><span "
      "class=\"meta\">{6}</span></div>\n",
      esc(what), esc(f.protocol), esc(f.destination), bar_class(f.end), l, w, esc(meta));
}

std::string timeline_section(const timeline& t) {
  std::string out = "<section id=\"timeline\"><h2>Timeline of flows per process</h2>\n";
  if (t.lanes.empty()) return out + "<p class=\"note\">No flows.</p></section>\n";
  const auto total = duration_cast<milliseconds>(t.end - t.begin);
  out += fmt::format("<div class=\"axis\"><span>{}</span><span class=\"ticks\"><span>0</span><span>{}</span><span>{}</span>"
                     "</span><span></span></div>\n",
                     esc(time_text(t.begin)), esc(human_duration(total / 2)), esc(human_duration(total)));
  std::size_t shown = 0, left_out = 0;
  for (const auto& lane : t.lanes) {
    out += "<div class=\"lane\"><h3>" + esc(lane.process) + "</h3>\n";
    for (const auto& f : lane.flows) {
      if (shown >= html_max_flows) {
        ++left_out;
        continue;
      }
      out += flow_row(t, f);
      ++shown;
    }
    out += "</div>\n";
  }
  if (left_out > 0) out += fmt::format("<p class=\"note\">{} more flows not drawn.</p>\n", left_out);
  return out + "</section>\n";
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  for (char c : printable(text)) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string render_html(const summary& s, const parsed_log& log) {
  const timeline t = build_timeline(log);
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
      "script-src 'unsafe-inline'\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<title>netpen report: " + esc(shorten(s.command.empty() ? "unknown command" : s.command, 80)) + "</title>\n";
  out += "<style>" + std::string(style) + "</style></head>\n<body data-report=\"static\">\n";
  out += header(s, log);
  out += figures(s);
  out += timeline_section(t);
  out += detail_html::tables(s, t);
  out += "<script>" + std::string(script) + "</script>\n</body></html>\n";
  return out;
}

}  // namespace netpen::events
