// A DNS exchange as events: the query (name, type) and the answer (rcode,
// addresses and CNAME targets), in the event model's terms. Pure logic.
#pragma once
#include <optional>
#include <string>

#include "net/dns/message.hpp"
#include "net/events/event.hpp"

namespace netpen::dns {

std::string type_name(std::uint16_t qtype);  // "A", "AAAA", "TXT", ... or "TYPE65"
std::string rcode_name(std::uint8_t code);   // "NOERROR", "NXDOMAIN", ... or "RCODE11"

// The dns_query event for `query`, or nullopt when it does not parse.
std::optional<events::event> query_event(byte_view query, std::string_view transport);
// The dns_answer event for `reply` to `query`; an empty reply (dropped) has
// rcode "DROPPED".
std::optional<events::event> answer_event(byte_view query, byte_view reply, std::string_view transport);

}  // namespace netpen::dns
