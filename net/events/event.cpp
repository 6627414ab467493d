// Names and the plain text form of events (see event.hpp).
#include "net/events/event.hpp"

#include <fmt/format.h>

namespace netpen::events {

std::string_view to_string(kind k) {
  switch (k) {
    case kind::dns_query: return "dns query";
    case kind::dns_answer: return "dns answer";
    case kind::flow_open: return "open";
    case kind::flow_close: return "close";
    case kind::denied: return "denied";
    case kind::proxy_failed: return "proxy failed";
    case kind::error: return "error";
  }
  return "event";
}

std::string to_text(const event& e) {
  const std::string where = e.name ? fmt::format("{} ({})", *e.name, e.destination) : e.destination;
  switch (e.what) {
    case kind::dns_query:
      return fmt::format("dns query: {} {} over {}", e.query, e.query_type, e.transport);
    case kind::dns_answer: {
      std::string list;
      for (const auto& a : e.answers) list += (list.empty() ? "" : ", ") + a;
      return fmt::format("dns answer: {} {} {}{}{}", e.query, e.query_type, e.rcode, list.empty() ? "" : ": ", list);
    }
    case kind::flow_close:
      return fmt::format("close: {} {} -> {}: {}, {} B out, {} B in, {} ms", e.protocol, e.source, where, e.end,
                         e.bytes_out, e.bytes_in, e.duration.count());
    default:
      break;
  }
  std::string text = fmt::format("{}: {} {} -> {}", to_string(e.what), e.protocol, e.source, where);
  if (!e.reason.empty()) text += ": " + e.reason;
  if (e.what == kind::proxy_failed && !e.via.empty()) text += " (via " + e.via + ")";
  return text;
}

}  // namespace netpen::events
