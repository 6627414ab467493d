// The DNS forwarder's decision for one query, sans-I/O: dropped, answered
// here, refused, or forwarded upstream. The forwarder (forwarder.cpp) only
// carries the decision out. Theory of operation, first match wins:
//  1. not a query (too short, a cut question, a response): drop it, no reply.
//  2. the policy refuses the name (allow_query false): NXDOMAIN at once,
//     overlay names too, whatever the question's type.
//  3. an address question (opcode QUERY, class IN, A or AAAA) for an
//     --hosts-file name: its addresses of that family (none: NODATA), cut to
//     the reply size limit with TC set.
//  4. forwarding mode (no synthetic names): forward upstream.
//  5. synthetic mode (socks5h://, --proxy-only): an IPv4 address question
//     gets the name's synthetic address, anything else NODATA (only the
//     proxy resolves). Nothing is forwarded.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <variant>

#include "net/dns/hosts_file.hpp"
#include "net/dns/message.hpp"
#include "net/dns/synthetic_names.hpp"

namespace netpen::dns {

// What the forwarder knows that can answer a query without an upstream.
struct local_names {
  const hosts_table& overlay;  // --hosts-file names
  // Asked about every query's name and type; false refuses it. Empty: all allowed.
  const std::function<bool(const std::string& qname, std::uint16_t qtype)>& allow_query;
  synthetic_names* synthetic = nullptr;  // set: synthetic mode, nothing is forwarded
  std::uint32_t ttl = 60;                // of the records answered here
};

// Not a query to answer: no reply at all.
struct drop_query {};
// Answered here with `reply` (addresses or NODATA; the query's id).
struct answer_now {
  std::string qname;
  bytes reply;
};
// Answered here with an error reply of `code` and no records.
struct refuse {
  std::string qname;
  rcode code = rcode::nxdomain;
};
// Asked of the upstream resolvers.
struct forward_upstream {
  parsed_query query;
};

using query_decision = std::variant<drop_query, answer_now, refuse, forward_upstream>;

// Decides what to do with `query` (wire format). `reply_limit` bounds a
// reply built here (classic_udp_limit over UDP, max_message over TCP).
// Hands out a synthetic address when that is the answer.
query_decision decide_query(byte_view query, std::size_t reply_limit, const local_names& names);

}  // namespace netpen::dns
