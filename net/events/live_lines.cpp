// The --analyse line format and duplicate folding (see live_lines.hpp).
#include "net/events/live_lines.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string_view>

#include "net/events/text_util.hpp"

namespace netpen::events {
namespace {

constexpr std::string_view reset = "\033[0m";
constexpr std::string_view dim = "\033[2m";
constexpr std::size_t source_width = 21;   // "255.255.255.255:65535"
constexpr std::size_t command_width = 60;  // of the process column

std::string_view label(kind k) {
  switch (k) {
    case kind::dns_query:
    case kind::dns_answer: return "DNS";
    case kind::flow_open: return "OPEN";
    case kind::flow_close: return "CLOSE";
    case kind::denied: return "DENY";
    case kind::proxy_failed: return "PROXY";
    case kind::error: return "ERROR";
    case kind::warning: return "WARN";
  }
  return "ERROR";
}

std::string_view label_colour(kind k) {
  switch (k) {
    case kind::dns_query:
    case kind::dns_answer: return "\033[36m";  // cyan
    case kind::flow_open: return "\033[32m";   // green
    case kind::flow_close: return "\033[34m";  // blue
    case kind::denied: return "\033[1;31m";    // bold red
    case kind::proxy_failed: return "\033[33m";  // yellow
    case kind::error: return "\033[1;31m";
    case kind::warning: return "\033[33m";       // yellow
  }
  return "";
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

// "src -> name (dst)", or as much of it as the event has; "name A" for a denied DNS query.
std::string flow_text(const event& e) {
  if (is_dns_denial(e)) return asked_text(e);
  const std::string where = e.name ? fmt::format("{} ({})", *e.name, e.destination) : e.destination;
  if (e.source.empty()) return where.empty() ? "" : "-> " + where;
  if (where.empty()) return e.source;
  return fmt::format("{:<{}} -> {}", e.source, source_width, where);
}

// The event's own details, without its claim.
std::string plain_details(const event& e) {
  const bool direct = e.via.empty() || e.via == "direct";
  switch (e.what) {
    case kind::dns_query:
      return fmt::format("{} {}?", e.query, e.query_type);
    case kind::dns_answer: {
      const std::string list = joined(e.answers);
      return fmt::format("{} {} {}{}{}", e.query, e.query_type, e.rcode, list.empty() ? "" : ": ", list);
    }
    case kind::flow_open: {
      std::string text = e.direction == "inbound" ? "inbound (--publish)" : "";
      if (!direct) text += (text.empty() ? "via " : ", via ") + e.via;
      if (!e.policy.empty()) text += (text.empty() ? "" : ", ") + policy_text(e);
      if (!e.reason.empty()) text += (text.empty() ? "" : ": ") + e.reason;
      return text;
    }
    case kind::flow_close: {
      std::string text = fmt::format("{}{}{} out, {} in, {}", e.end, e.end.empty() ? "" : ", ",
                                     human_bytes(e.bytes_out), human_bytes(e.bytes_in), human_duration(e.duration));
      if (!direct) text += ", via " + e.via;
      if (e.direction == "inbound") text += ", inbound";
      return text;
    }
    case kind::proxy_failed:
      return e.reason + (direct ? "" : fmt::format("{}(via {})", e.reason.empty() ? "" : " ", e.via));
    case kind::denied:
      return e.policy.empty() ? e.reason : policy_text(e);
    case kind::error:
    case kind::warning:
      return e.reason;
  }
  return e.reason;
}

// Flow events show their claim first, two spaces before the rest.
std::string details(const event& e) {
  std::string rest = plain_details(e);
  if (e.what != kind::flow_open && e.what != kind::flow_close && e.what != kind::denied) return rest;
  std::string claim = claim_text(e);
  if (claim.empty()) return rest;
  return rest.empty() ? claim : claim + "  " + rest;
}

std::string process_text(const event& e) {
  if (!e.process || (e.process->pid == 0 && e.process->command.empty())) return "";
  if (e.process->command.empty()) return fmt::format("[{}]", e.process->pid);
  return fmt::format("[{} {}]", e.process->pid, shorten(e.process->command, command_width));
}

// DNS events say "dns"; the column shows how the tree asked instead.
std::string protocol_text(const event& e) {
  const bool dns = e.what == kind::dns_query || e.what == kind::dns_answer;
  if (dns && !e.transport.empty()) return e.transport;
  if (!e.protocol.empty()) return e.protocol;
  if (!e.transport.empty()) return e.transport;
  return "-";
}

}  // namespace

live_formatter::live_formatter(bool colour) : colour_(colour) {}

std::optional<std::string> live_formatter::format(const event& e, std::chrono::system_clock::time_point run_start) {
  const std::string flow = flow_text(e);
  const std::string more = details(e);
  const std::string body = printable(flow + (flow.empty() || more.empty() ? "" : "  ") + more);
  const std::string process = printable(process_text(e));
  const std::string protocol = printable(protocol_text(e));

  // The fold key: everything but the time, without colour.
  std::string key = fmt::format("{:<5} {:<6} {}", label(e.what), protocol, body);
  if (!process.empty()) key += "  " + process;
  if (have_last_ && key == last_) {
    ++repeats_;
    return std::nullopt;
  }

  const double seconds = std::max(0.0, std::chrono::duration<double>(e.time - run_start).count());
  std::string line;
  if (!colour_) {
    line = fmt::format("{:>7.3f}s {}", seconds, key);
  } else {
    line = fmt::format("{}{:>7.3f}s{} {}{:<5}{} {:<6} {}", dim, seconds, reset, label_colour(e.what), label(e.what),
                       reset, protocol, body);
    if (!process.empty()) line += fmt::format("  {}{}{}", dim, process, reset);
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();

  std::string out = fold_note();
  if (!out.empty()) out += '\n';
  out += line;
  last_ = std::move(key);
  have_last_ = true;
  return out;
}

std::optional<std::string> live_formatter::flush_folded() {
  std::string note = fold_note();
  if (note.empty()) return std::nullopt;
  return note;
}

std::string live_formatter::fold_note() {
  if (repeats_ == 0) return "";
  const std::string text = fmt::format("(repeated {} time{})", repeats_, repeats_ == 1 ? "" : "s");
  repeats_ = 0;
  return colour_ ? fmt::format("  {}{}{}", dim, text, reset) : "  " + text;
}

bool want_colour(int fd) {
  if (::isatty(fd) != 1) return false;
  const char* no_colour = std::getenv("NO_COLOR");
  if (no_colour != nullptr && *no_colour != '\0') return false;
  const char* term = std::getenv("TERM");
  return term == nullptr || std::string_view(term) != "dumb";
}

}  // namespace netpen::events
