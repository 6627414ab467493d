// The HTML report's tables (see report_html.hpp): bytes per destination
// and per claimed name (most bytes first, as the summary orders them), DNS
// questions and answers, and the grouped denials, proxy failures, errors
// and warnings with the same columns as the text summary.
#include "net/events/report_html_tables.hpp"

#include <fmt/format.h>

#include "net/events/summary_table.hpp"
#include "net/events/text_util.hpp"

namespace netpen::events::detail_html {
namespace {

std::string esc(std::string_view text) { return html_escape(text); }

std::string head(std::initializer_list<std::string_view> columns) {
  std::string out = "<table><thead><tr>";
  for (auto c : columns) out += "<th>" + std::string(c) + "</th>";
  return out + "</tr></thead><tbody>\n";
}

std::string title(std::string_view what, std::size_t shown, std::uint64_t all) {
  return all > shown ? fmt::format("{} (top {} of {}, most bytes first)", what, shown, all)
                     : fmt::format("{} (most bytes first)", what);
}

std::string destinations(const summary& s) {
  if (s.top_destinations.empty()) return {};
  std::string out = fmt::format("<section id=\"destinations\"><h2>{}</h2>\n",
                                title("Bytes per destination", s.top_destinations.size(), s.destinations));
  out += head({"destination", "address", "port", "protocol", "direction", "flows", "bytes out", "bytes in"});
  for (const auto& d : s.top_destinations)
    out += fmt::format(
        "<tr><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td>"
        "<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n",
        esc(d.host), esc(d.address), d.port ? std::to_string(*d.port) : "-", esc(d.protocol), detail::direction_of(d),
        d.flows, esc(human_bytes(d.bytes_out)), esc(human_bytes(d.bytes_in)));
  return out + "</tbody></table></section>\n";
}

std::string names(const summary& s) {
  if (s.top_names.empty()) return {};
  std::string out = fmt::format("<section id=\"names\"><h2>{}</h2>\n",
                                title("Bytes per claimed name (TLS/QUIC SNI, HTTP Host)", s.top_names.size(), s.names));
  out += head({"name", "seen", "flows", "bytes out", "bytes in"});
  for (const auto& n : s.top_names)
    out += fmt::format(
        "<tr><td class=\"mono\">{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td "
        "class=\"n\">{}</td></tr>\n",
        esc(n.name), esc(detail::seen_text(n)), n.flows, esc(human_bytes(n.bytes_out)), esc(human_bytes(n.bytes_in)));
  return out + "</tbody></table></section>\n";
}

std::string dns(const summary& s, const timeline& t) {
  std::string out = fmt::format(
      "<section id=\"dns\"><h2>DNS</h2>\n<p>{} quer{}, {} answer{}, {} failed.</p>\n", s.dns_queries,
      s.dns_queries == 1 ? "y" : "ies", s.dns_answers, s.dns_answers == 1 ? "" : "s", s.dns_failed);
  if (t.dns.empty()) return out + "</section>\n";
  out += head({"time", "process", "question", "type", "answer", "addresses"});
  std::size_t shown = 0;
  for (const auto& d : t.dns) {
    if (shown++ >= html_max_dns) break;
    std::string answers;
    for (const auto& a : d.answers) answers += (answers.empty() ? "" : "<br>") + esc(a);
    out += fmt::format(
        "<tr><td class=\"mono nw\">{}</td><td class=\"mono\">{}</td><td class=\"mono nw\">{}</td><td>{}</td>"
        "<td class=\"{}\">{}</td><td class=\"mono\">{}</td></tr>\n",
        esc(format_time(d.time).substr(11)), esc(d.process), esc(d.query), esc(d.query_type),
        d.rcode.empty() || d.rcode == "NOERROR" ? "" : "bad", d.rcode.empty() ? "no answer" : esc(d.rcode), answers);
  }
  out += "</tbody></table>\n";
  if (t.dns.size() > html_max_dns)
    out += fmt::format("<p class=\"note\">{} more not listed.</p>\n", t.dns.size() - html_max_dns);
  return out + "</section>\n";
}

std::string groups(std::string_view id, std::string_view heading, const std::vector<event_group>& list,
                   detail::group_extra extra) {
  if (list.empty()) return {};
  const auto columns = detail::group_columns(list, extra);
  std::string out = fmt::format("<section id=\"{}\"><h2>{}</h2>\n<table><thead><tr><th>count</th>", id, heading);
  for (const auto& c : columns) out += fmt::format("<th>{}</th>", c.header);
  out += "</tr></thead><tbody>\n";
  for (const auto& g : list) {
    out += fmt::format("<tr><td class=\"n\">{}</td>", g.count);
    for (const auto& c : columns) out += "<td class=\"mono\">" + esc(g.*c.field) + "</td>";
    out += "</tr>\n";
  }
  return out + "</tbody></table></section>\n";
}

}  // namespace

std::string tables(const summary& s, const timeline& t) {
  std::string out = destinations(s) + names(s) + dns(s, t);
  out += groups("denials", "Denied", s.denials, detail::group_extra::policy);
  if (s.denials.empty()) out += "<section id=\"denials\"><h2>Denied</h2><p>Nothing was denied.</p></section>\n";
  out += groups("proxy-failures", "Proxy failures", s.proxy_failures, detail::group_extra::via);
  out += groups("errors", "Errors", s.errors, detail::group_extra::none);
  out += groups("warnings", "Warnings", s.warnings, detail::group_extra::none);
  return out;
}

}  // namespace netpen::events::detail_html
