// The summary as JSON and as Markdown (see summary.hpp; the text form is in
// summary.cpp).
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "net/events/summary.hpp"
#include "net/events/summary_table.hpp"
#include "net/events/text_util.hpp"

namespace netpen::events {
namespace {

using ordered = nlohmann::ordered_json;
using detail::group_extra;

template <class T>
ordered or_null(const std::optional<T>& value) {
  return value ? ordered(*value) : ordered(nullptr);
}

// Every group of a list has the same keys (via for proxy failures, claimed,
// policy and rule for denials), empty strings included.
ordered groups_json(const std::vector<event_group>& groups, group_extra extra) {
  ordered list = ordered::array();
  for (const auto& g : groups) {
    ordered item;
    item["protocol"] = g.protocol;
    item["destination"] = g.destination;
    item["reason"] = g.reason;
    if (extra == group_extra::via) item["via"] = g.via;
    if (extra == group_extra::policy) item["claimed"] = g.claimed;
    if (extra == group_extra::policy) item["policy"] = g.policy;
    if (extra == group_extra::policy) item["rule"] = g.rule;
    item["count"] = g.count;
    list.push_back(std::move(item));
  }
  return list;
}

// Text safe inside a Markdown paragraph or table cell.
std::string md(std::string_view text) {
  std::string out;
  for (char c : printable(text)) {
    if (std::string_view("\\`*_[]<>|#").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

std::string md_code(std::string_view text) {
  const std::string safe = printable(text);
  return safe.find('`') == std::string::npos ? "`" + safe + "`" : "`` " + safe + " ``";
}

void md_groups(std::string& out, std::string_view title, const std::vector<event_group>& groups,
               group_extra extra) {
  if (groups.empty()) return;
  const auto columns = detail::group_columns(groups, extra);
  std::string header = "| count |", rule = "|--:|";
  for (const auto& c : columns) {
    header += fmt::format(" {} |", c.header);
    rule += "---|";
  }
  out += fmt::format("\n### {}\n\n{}\n{}\n", title, header, rule);
  for (const auto& g : groups) {
    out += fmt::format("| {} |", g.count);
    for (const auto& c : columns) out += fmt::format(" {} |", md(g.*c.field));
    out += "\n";
  }
}

}  // namespace

std::string render_json(const summary& s) {
  ordered j;
  j["schema_version"] = 1;
  j["netpen_version"] = s.netpen_version;
  j["backend"] = s.backend;
  j["command"] = s.command;
  j["controls"] = s.controls;
  j["capture"] = or_null(s.capture);
  j["duration_ms"] = s.duration ? ordered(s.duration->count()) : ordered(nullptr);
  j["exit_status"] = or_null(s.exit_status);
  j["events"] = s.events;

  ordered protocols = ordered::array();
  for (const auto& p : s.protocols)
    protocols.push_back({{"protocol", p.protocol}, {"flows", p.flows}, {"bytes_out", p.bytes_out},
                         {"bytes_in", p.bytes_in}});
  j["protocols"] = std::move(protocols);

  ordered failures = ordered::array();
  for (const auto& f : s.dns_failures)
    failures.push_back({{"query", f.query}, {"query_type", f.query_type}, {"rcode", f.rcode}, {"count", f.count}});
  j["dns"] = {{"queries", s.dns_queries}, {"answers", s.dns_answers}, {"failed", s.dns_failed},
              {"failures", std::move(failures)}};

  j["destinations"] = s.destinations;
  ordered top = ordered::array();
  for (const auto& d : s.top_destinations)
    top.push_back({{"host", d.host}, {"address", d.address}, {"port", or_null(d.port)}, {"protocol", d.protocol},
                   {"direction", detail::direction_of(d)}, {"flows", d.flows}, {"bytes_out", d.bytes_out},
                   {"bytes_in", d.bytes_in}});
  j["top_destinations"] = std::move(top);

  j["claimed_names"] = s.names;
  ordered names = ordered::array();
  for (const auto& n : s.top_names)
    names.push_back({{"name", n.name}, {"seen", n.seen}, {"flows", n.flows}, {"bytes_out", n.bytes_out},
                     {"bytes_in", n.bytes_in}});
  j["top_claimed_names"] = std::move(names);

  j["denials"] = groups_json(s.denials, group_extra::policy);
  j["proxy_failures"] = groups_json(s.proxy_failures, group_extra::via);
  j["errors"] = groups_json(s.errors, group_extra::none);
  j["warnings"] = groups_json(s.warnings, group_extra::none);
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string render_markdown(const summary& s) {
  std::string out = "## netpen run summary\n\n";
  out += fmt::format("- **command:** {}\n", s.command.empty() ? "unknown" : md_code(s.command));
  out += fmt::format("- **backend:** {}\n", s.backend.empty() ? "unknown" : md(s.backend));
  std::string controls;
  for (const auto& c : s.controls) controls += (controls.empty() ? "" : ", ") + md_code(c);
  out += fmt::format("- **controls:** {}\n", controls.empty() ? "none" : controls);
  if (s.capture) out += fmt::format("- **capture:** {}\n", md_code(*s.capture));
  out += fmt::format("- **duration:** {}\n", s.duration ? human_duration(*s.duration) : "unknown");
  if (!s.netpen_version.empty()) out += fmt::format("- **netpen:** {}\n", md(s.netpen_version));

  out += "\n### Traffic\n\n";
  if (s.protocols.empty()) {
    out += "No flows.\n";
  } else {
    out += "| protocol | flows | bytes out | bytes in |\n|---|--:|--:|--:|\n";
    for (const auto& p : s.protocols)
      out += fmt::format("| {} | {} | {} | {} |\n", md(p.protocol), p.flows, human_bytes(p.bytes_out),
                         human_bytes(p.bytes_in));
  }

  out += "\n### DNS\n\n" + dns_totals_text(s) + ".\n";
  if (!s.dns_failures.empty()) {
    out += "\n| count | query | type | answer |\n|--:|---|---|---|\n";
    for (const auto& f : s.dns_failures)
      out += fmt::format("| {} | {} | {} | {} |\n", f.count, md(f.query), md(f.query_type), md(f.rcode));
  }

  if (!s.top_destinations.empty()) {
    out += s.destinations > s.top_destinations.size()
               ? fmt::format("\n### Top destinations ({} of {})\n\n", s.top_destinations.size(), s.destinations)
               : std::string("\n### Destinations\n\n");
    const bool direction = detail::any_inbound(s.top_destinations);
    out += direction ? "| destination | port | protocol | flows | bytes out | bytes in | direction |\n"
                       "|---|--:|---|--:|--:|--:|---|\n"
                     : "| destination | port | protocol | flows | bytes out | bytes in |\n|---|--:|---|--:|--:|--:|\n";
    for (const auto& d : s.top_destinations) {
      out += fmt::format("| {} | {} | {} | {} | {} | {} |", md(d.host), d.port ? std::to_string(*d.port) : "-",
                         md(d.protocol), d.flows, human_bytes(d.bytes_out), human_bytes(d.bytes_in));
      out += direction ? fmt::format(" {} |\n", detail::direction_of(d)) : std::string("\n");
    }
  }

  if (!s.top_names.empty()) {
    out += s.names > s.top_names.size()
               ? fmt::format("\n### Top claimed names ({} of {})\n\n", s.top_names.size(), s.names)
               : std::string("\n### Claimed names\n\n");
    out += "| name | seen | flows | bytes out | bytes in |\n|---|---|--:|--:|--:|\n";
    for (const auto& n : s.top_names)
      out += fmt::format("| {} | {} | {} | {} | {} |\n", md(n.name), md(detail::seen_text(n)), n.flows,
                         human_bytes(n.bytes_out), human_bytes(n.bytes_in));
  }

  md_groups(out, "Denied", s.denials, group_extra::policy);
  md_groups(out, "Proxy failures", s.proxy_failures, group_extra::via);
  md_groups(out, "Errors", s.errors, group_extra::none);
  md_groups(out, "Warnings", s.warnings, group_extra::none);

  out += s.exit_status ? fmt::format("\n**exit status:** {}\n", *s.exit_status)
                       : std::string("\n**exit status:** unknown (the run did not finish)\n");
  return out;
}

}  // namespace netpen::events
