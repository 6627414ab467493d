// DNS exchanges as events (see exchange_event.hpp).
#include "net/dns/exchange_event.hpp"

#include <array>
#include <utility>

namespace netpen::dns {

std::string type_name(std::uint16_t qtype) {
  static constexpr std::array<std::pair<std::uint16_t, const char*>, 16> names{{
      {1, "A"}, {2, "NS"}, {5, "CNAME"}, {6, "SOA"}, {12, "PTR"}, {15, "MX"}, {16, "TXT"}, {28, "AAAA"},
      {33, "SRV"}, {35, "NAPTR"}, {43, "DS"}, {48, "DNSKEY"}, {64, "SVCB"}, {65, "HTTPS"}, {255, "ANY"}, {257, "CAA"}}};
  for (const auto& [t, n] : names)
    if (t == qtype) return n;
  return "TYPE" + std::to_string(qtype);
}

std::string rcode_name(std::uint8_t code) {
  static constexpr std::array<const char*, 6> names{"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"};
  if (code < names.size()) return names[code];
  return "RCODE" + std::to_string(code);
}

std::optional<events::event> query_event(byte_view query, std::string_view transport) {
  auto q = parse_query(query);
  if (!q) return std::nullopt;
  events::event e;
  e.what = events::kind::dns_query;
  e.protocol = "dns";
  e.query = q->q.qname.text;
  e.query_type = type_name(q->q.qtype);
  e.transport = std::string(transport);
  return e;
}

std::optional<events::event> answer_event(byte_view query, byte_view reply, std::string_view transport) {
  auto e = query_event(query, transport);
  if (!e) return std::nullopt;
  e->what = events::kind::dns_answer;
  if (reply.empty()) {
    e->rcode = "DROPPED";
    return e;
  }
  auto h = parse_header(reply);
  e->rcode = h ? rcode_name(static_cast<std::uint8_t>(h->response_code())) : "MALFORMED";
  for (const auto& r : extract_answers(reply)) e->answers.push_back(r.type == type_cname ? r.target : r.address.to_string());
  return e;
}

}  // namespace netpen::dns
