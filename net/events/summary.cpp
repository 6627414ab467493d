// Folding a run's events into its summary, and the summary's text form
// (see summary.hpp; JSON and Markdown are in summary_render.cpp).
#include "net/events/summary.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "net/events/summary_table.hpp"
#include "net/events/text_util.hpp"

namespace netpen::events {
namespace {

using detail::align;
using detail::group_extra;
using detail::table;

constexpr std::size_t text_group_limit = 20;  // rows per group table in the text form

// "203.0.113.10:80" -> {"203.0.113.10", 80}; "[2001:db8::1]:443" ->
// {"2001:db8::1", 443}; "2001:db8::1" and "203.0.113.10" (ICMP) -> no port.
std::pair<std::string, std::optional<std::uint16_t>> split_destination(std::string_view text) {
  auto port_of = [](std::string_view digits) -> std::optional<std::uint16_t> {
    if (digits.empty() || digits.size() > 5) return std::nullopt;
    unsigned value = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return std::nullopt;
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(value);
  };
  if (text.starts_with('[')) {
    const auto close = text.find("]:");
    if (close != std::string_view::npos) {
      if (auto port = port_of(text.substr(close + 2))) return {std::string(text.substr(1, close - 1)), port};
    }
    return {std::string(text), std::nullopt};
  }
  const auto colon = text.find(':');
  if (colon != std::string_view::npos && colon == text.rfind(':')) {
    if (auto port = port_of(text.substr(colon + 1))) return {std::string(text.substr(0, colon)), port};
  }
  return {std::string(text), std::nullopt};
}

std::string destination_label(const event& e, const std::optional<std::string>& name) {
  if (!name) return e.destination;
  const auto port = split_destination(e.destination).second;
  return port ? fmt::format("{}:{}", *name, *port) : *name;
}

template <class T>
void most_first(std::vector<T>& items) {
  std::stable_sort(items.begin(), items.end(), [](const T& a, const T& b) { return a.count > b.count; });
}

void group_table(std::string& out, std::string_view title, const std::vector<event_group>& groups,
                 group_extra extra) {
  if (groups.empty()) return;
  std::uint64_t total = 0;
  for (const auto& g : groups) total += g.count;
  out += fmt::format("\n{}: {}\n", title, total);
  const auto columns = detail::group_columns(groups, extra);
  std::vector<align> alignment(columns.size() + 1, align::left);
  alignment[0] = align::right;
  table t(std::move(alignment));
  std::vector<std::string> header{"count"};
  for (const auto& c : columns) header.emplace_back(c.header);
  t.row(std::move(header));
  for (std::size_t i = 0; i < groups.size() && i < text_group_limit; ++i) {
    std::vector<std::string> row{std::to_string(groups[i].count)};
    for (const auto& c : columns) row.push_back(printable(groups[i].*c.field));
    t.row(std::move(row));
  }
  out += t.render("  ");
  if (groups.size() > text_group_limit) out += fmt::format("  ... and {} more\n", groups.size() - text_group_limit);
}

// The names flows claimed, by bytes.
void names_table(std::string& out, const summary& s) {
  if (s.top_names.empty()) return;
  out += s.names > s.top_names.size()
             ? fmt::format("\ntop claimed names by bytes ({} of {})\n", s.top_names.size(), s.names)
             : std::string("\nclaimed names by bytes\n");
  table t({align::left, align::left, align::right, align::right, align::right});
  t.row({"name", "seen", "flows", "bytes out", "bytes in"});
  for (const auto& n : s.top_names)
    t.row({printable(n.name), detail::seen_text(n), std::to_string(n.flows), human_bytes(n.bytes_out),
           human_bytes(n.bytes_in)});
  out += t.render("  ");
}

// The group an event counts in: a denied DNS query by the name asked, a
// flow by its destination.
event_group group_of(const event& e) {
  const std::string where = is_dns_denial(e) ? asked_name(e) : destination_label(e, e.name);
  const std::string via = e.what == kind::proxy_failed ? e.via : "";
  const std::string claimed = e.what == kind::denied ? claimed_name(e) : "";
  return {e.protocol, where, e.reason, via, e.policy, e.rule, claimed, 1};
}

}  // namespace

std::string dns_totals_text(const summary& s) {
  if (s.dns_queries == 0 && s.dns_answers == 0) return "no queries";
  return fmt::format("{} quer{}, {} answer{}, {} failed", s.dns_queries, s.dns_queries == 1 ? "y" : "ies",
                     s.dns_answers, s.dns_answers == 1 ? "" : "s", s.dns_failed);
}

std::string claimed_name(const event& e) { return !e.sni.empty() ? e.sni : e.http_host; }

std::string_view claim_seen(const event& e) {
  if (!e.sni.empty()) return e.protocol == "udp" ? "quic" : "sni";
  return e.http_host.empty() ? "" : "host";
}

void summary_builder::grouped::add(event_group g) {
  auto key = std::make_tuple(g.protocol, g.destination, g.reason, g.via, g.policy, g.rule, g.claimed);
  auto it = index.find(key);
  if (it != index.end()) {
    groups[it->second].count += g.count;
    return;
  }
  index.emplace(std::move(key), groups.size());
  groups.push_back(std::move(g));
}

void summary_builder::start(const run_info& info) {
  s_.netpen_version = info.netpen_version;
  s_.backend = info.backend;
  s_.command = info.command;
  s_.controls = info.controls;
  s_.capture = info.capture;
}

void summary_builder::finish(const run_end& end) {
  s_.duration = end.duration;
  s_.exit_status = end.exit_status;
}

destination_total& summary_builder::destination_for(const event& e, const std::optional<std::string>& name) {
  auto [address, port] = split_destination(e.destination);
  const std::string host = name ? *name : address;
  const bool inbound = e.direction == "inbound";
  auto [it, fresh] =
      destinations_.try_emplace(destination_id{host, port ? std::to_string(*port) : "", e.protocol, inbound});
  if (fresh) {
    it->second.host = host;
    it->second.address = std::move(address);
    it->second.port = port;
    it->second.protocol = e.protocol;
    it->second.inbound = inbound;
  }
  return it->second;
}

void summary_builder::count_flow(const event& e, const std::optional<std::string>& name) {
  auto& p = protocols_[e.protocol];
  p.protocol = e.protocol;
  ++p.flows;
  ++destination_for(e, name).flows;
}

name_total& summary_builder::name_for(const std::string& name, std::string_view seen) {
  auto& n = names_[name];
  n.name = name;
  if (!seen.empty() && std::find(n.seen.begin(), n.seen.end(), seen) == n.seen.end()) {
    n.seen.emplace_back(seen);
    auto rank = [](const std::string& how) { return how == "sni" ? 0 : how == "quic" ? 1 : 2; };
    std::sort(n.seen.begin(), n.seen.end(), [&](const auto& a, const auto& b) { return rank(a) < rank(b); });
  }
  return n;
}

// A closing flow's bytes go to the name it claimed (said at its close, or
// at its open); the flow itself counts unless its open counted it already.
void summary_builder::count_claim_at_close(const event& e, const open_flow* open) {
  std::string name = claimed_name(e);
  std::string seen(claim_seen(e));
  if (name.empty() && open != nullptr) {
    name = open->claimed;
    seen = open->seen;
  }
  if (name.empty()) return;
  auto& n = name_for(name, seen);
  if (open == nullptr || open->claimed != name) ++n.flows;
  n.bytes_out += e.bytes_out;
  n.bytes_in += e.bytes_in;
}

void summary_builder::add(const event& e) {
  ++s_.events;
  switch (e.what) {
    case kind::dns_query:
      ++s_.dns_queries;
      break;
    case kind::dns_answer: {
      ++s_.dns_answers;
      if (e.rcode.empty() || e.rcode == "NOERROR") break;
      ++s_.dns_failed;
      auto [it, fresh] = dns_failure_index_.try_emplace({e.query, e.query_type, e.rcode}, s_.dns_failures.size());
      if (fresh) s_.dns_failures.push_back({e.query, e.query_type, e.rcode, 0});
      ++s_.dns_failures[it->second].count;
      break;
    }
    case kind::flow_open: {
      // A flow counts once: at its open, or at its close if the open is
      // missing (a log cut at the start). Opens without a close still count.
      auto& open = open_[flow_id{e.protocol, e.source, e.destination}];
      ++open.count;
      if (e.name) open.name = e.name;
      count_flow(e, e.name);
      if (const std::string claimed = claimed_name(e); !claimed.empty() && open.claimed.empty()) {
        ++name_for(claimed, claim_seen(e)).flows;
        open.claimed = claimed;
        open.seen = claim_seen(e);
      }
      break;
    }
    case kind::flow_close: {
      std::optional<std::string> name = e.name;
      auto it = open_.find(flow_id{e.protocol, e.source, e.destination});
      count_claim_at_close(e, it != open_.end() ? &it->second : nullptr);
      if (it != open_.end()) {
        if (!name) name = it->second.name;
        if (--it->second.count == 0) open_.erase(it);
      } else {
        count_flow(e, name);
      }
      auto& p = protocols_[e.protocol];
      p.protocol = e.protocol;
      p.bytes_out += e.bytes_out;
      p.bytes_in += e.bytes_in;
      auto& d = destination_for(e, name);
      d.bytes_out += e.bytes_out;
      d.bytes_in += e.bytes_in;
      break;
    }
    case kind::denied:
      if (attempts_.add(e)) denials_.add(group_of(e));  // a DNS name once, whatever its types
      break;
    case kind::proxy_failed:
      proxy_failures_.add(group_of(e));
      break;
    case kind::error:
      errors_.add(group_of(e));
      break;
    case kind::warning:
      warnings_.add(group_of(e));
      break;
  }
}

summary summary_builder::result() const {
  summary out = s_;
  for (const auto& [name, total] : protocols_) out.protocols.push_back(total);
  most_first(out.dns_failures);
  out.destinations = destinations_.size();
  for (const auto& [id, total] : destinations_) out.top_destinations.push_back(total);
  std::sort(out.top_destinations.begin(), out.top_destinations.end(), [](const auto& a, const auto& b) {
    const auto ab = a.bytes_out + a.bytes_in, bb = b.bytes_out + b.bytes_in;
    if (ab != bb) return ab > bb;
    if (a.flows != b.flows) return a.flows > b.flows;
    return std::tie(a.host, a.port, a.protocol, a.inbound) < std::tie(b.host, b.port, b.protocol, b.inbound);
  });
  if (out.top_destinations.size() > top_destination_count) out.top_destinations.resize(top_destination_count);
  out.names = names_.size();
  for (const auto& [name, total] : names_) out.top_names.push_back(total);
  std::stable_sort(out.top_names.begin(), out.top_names.end(), [](const auto& a, const auto& b) {
    const auto ab = a.bytes_out + a.bytes_in, bb = b.bytes_out + b.bytes_in;
    if (ab != bb) return ab > bb;
    return a.flows > b.flows;  // then by name: the map's order
  });
  if (out.top_names.size() > top_name_count) out.top_names.resize(top_name_count);
  out.denials = denials_.groups;
  out.proxy_failures = proxy_failures_.groups;
  out.errors = errors_.groups;
  out.warnings = warnings_.groups;
  most_first(out.denials);
  most_first(out.proxy_failures);
  most_first(out.errors);
  most_first(out.warnings);
  return out;
}

std::string render_text(const summary& s) {
  std::string out = s.netpen_version.empty() ? "netpen run summary\n"
                                             : fmt::format("netpen {} run summary\n", printable(s.netpen_version));
  table info({align::left, align::left});
  info.row({"command", s.command.empty() ? "unknown" : printable(s.command)});
  info.row({"backend", s.backend.empty() ? "unknown" : printable(s.backend)});
  for (std::size_t i = 0; i < std::max<std::size_t>(1, s.controls.size()); ++i)
    info.row({i == 0 ? "controls" : "", s.controls.empty() ? "none" : printable(s.controls[i])});
  if (s.capture) info.row({"capture", printable(*s.capture)});
  info.row({"duration", s.duration ? human_duration(*s.duration) : "unknown"});
  out += info.render("  ");

  if (s.protocols.empty()) {
    out += "\ntraffic: no flows\n";
  } else {
    out += "\ntraffic\n";
    table t({align::left, align::right, align::right, align::right});
    t.row({"protocol", "flows", "bytes out", "bytes in"});
    for (const auto& p : s.protocols)
      t.row({printable(p.protocol), std::to_string(p.flows), human_bytes(p.bytes_out), human_bytes(p.bytes_in)});
    out += t.render("  ");
  }

  out += "\ndns: " + dns_totals_text(s) + "\n";
  if (!s.dns_failures.empty()) {
    table t({align::right, align::left, align::left, align::left});
    t.row({"count", "query", "type", "answer"});
    for (std::size_t i = 0; i < s.dns_failures.size() && i < text_group_limit; ++i) {
      const auto& f = s.dns_failures[i];
      t.row({std::to_string(f.count), printable(f.query), printable(f.query_type), printable(f.rcode)});
    }
    out += t.render("  ");
    if (s.dns_failures.size() > text_group_limit)
      out += fmt::format("  ... and {} more\n", s.dns_failures.size() - text_group_limit);
  }

  if (!s.top_destinations.empty()) {
    out += s.destinations > s.top_destinations.size()
               ? fmt::format("\ntop destinations by bytes ({} of {})\n", s.top_destinations.size(), s.destinations)
               : std::string("\ndestinations by bytes\n");
    const bool direction = detail::any_inbound(s.top_destinations);
    std::vector<align> alignment{align::left, align::right, align::left, align::right, align::right, align::right};
    if (direction) alignment.push_back(align::left);
    table t(std::move(alignment));
    std::vector<std::string> header{"destination", "port", "protocol", "flows", "bytes out", "bytes in"};
    if (direction) header.emplace_back("direction");
    t.row(std::move(header));
    for (const auto& d : s.top_destinations) {
      std::vector<std::string> row{printable(d.host), d.port ? std::to_string(*d.port) : "-", printable(d.protocol),
                                   std::to_string(d.flows), human_bytes(d.bytes_out), human_bytes(d.bytes_in)};
      if (direction) row.emplace_back(detail::direction_of(d));
      t.row(std::move(row));
    }
    out += t.render("  ");
  }

  names_table(out, s);

  group_table(out, "denied", s.denials, group_extra::policy);
  group_table(out, "proxy failures", s.proxy_failures, group_extra::via);
  group_table(out, "errors", s.errors, group_extra::none);
  group_table(out, "warnings", s.warnings, group_extra::none);

  out += s.exit_status ? fmt::format("\nexit status: {}\n", *s.exit_status)
                       : std::string("\nexit status: unknown (the run did not finish)\n");
  return out;
}

}  // namespace netpen::events
