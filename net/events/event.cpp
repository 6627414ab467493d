// Names, the plain text form and the policy decision's text of events (see
// event.hpp).
#include "net/events/event.hpp"

#include <fmt/format.h>

#include "net/events/text_util.hpp"

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
    case kind::warning: return "warning";
  }
  return "event";
}

std::string policy_text(const event& e) {
  if (e.policy.empty()) return "";
  return e.rule.empty() ? e.policy : e.policy + " " + e.rule;
}

bool is_dns_denial(const event& e) { return e.what == kind::denied && e.protocol == "dns"; }

std::string asked_name(const event& e) { return e.query.empty() ? e.name.value_or("") : e.query; }

std::string asked_text(const event& e) {
  return e.query_type.empty() ? asked_name(e) : asked_name(e) + " " + e.query_type;
}

namespace {

// "tcp 10.248.0.2:40000 -> example.com (93.184.216.34:443)"; "dns evil.com A" for a denied query.
std::string subject(const event& e) {
  if (is_dns_denial(e)) return "dns " + asked_text(e);
  const std::string where = e.name ? fmt::format("{} ({})", *e.name, e.destination) : e.destination;
  const std::string claim = printable(claim_text(e));  // bytes from the tree: no terminal escapes
  return fmt::format("{}{}{} -> {}{}{}{}", e.protocol, e.source.empty() ? "" : " ", e.source, where, e.direction == "inbound" ? " (inbound)" : "",
                     claim.empty() ? "" : " ", claim);
}

}  // namespace

std::string to_text(const process_info& p) {
  return fmt::format("pid {} (sandbox pid {}): {}", p.pid, p.sandbox_pid, p.command);
}

std::string to_text(const event& e) {
  switch (e.what) {
    case kind::dns_query:
      return fmt::format("dns query: {} {} over {}", e.query, e.query_type, e.transport);
    case kind::dns_answer: {
      std::string list;
      for (const auto& a : e.answers) list += (list.empty() ? "" : ", ") + a;
      return fmt::format("dns answer: {} {} {}{}{}", e.query, e.query_type, e.rcode, list.empty() ? "" : ": ", list);
    }
    case kind::flow_close:
      return fmt::format("close: {}: {}, {} B out, {} B in, {} ms", subject(e), e.end, e.bytes_out, e.bytes_in,
                         e.duration.count());
    default:
      break;
  }
  std::string text = fmt::format("{}: {}", to_string(e.what), subject(e));
  if (!e.reason.empty()) text += ": " + e.reason;
  if (e.what == kind::proxy_failed && !e.via.empty()) text += " (via " + e.via + ")";
  // The policy code and rule, unless the sentence already names the rule
  // ("deny rule *.evil.com (--deny)"): then the code alone.
  const bool rule_said = !e.rule.empty() && e.reason.find(e.rule) != std::string::npos;
  if (!e.policy.empty()) text += " [" + (rule_said ? e.policy : policy_text(e)) + "]";
  return text;
}

}  // namespace netpen::events
