// The forwarder's per-query decision (theory of operation in local_answer.hpp).
#include "net/dns/local_answer.hpp"

#include <optional>
#include <utility>
#include <vector>

namespace netpen::dns {
namespace {

bool is_address_question(const parsed_query& q) {
  return q.hdr.opcode() == 0 && q.q.qclass == class_in && (q.q.qtype == type_a || q.q.qtype == type_aaaa);
}

// A reply built here; a reply that cannot be built is an empty one.
answer_now built(const parsed_query& q, result<bytes> reply) {
  return {q.q.qname.text, reply ? std::move(*reply) : bytes{}};
}

// Step 3: an overlay name's addresses of the question's family.
std::optional<answer_now> overlay_answer(const parsed_query& q, byte_view query, std::size_t reply_limit,
                                         const local_names& names) {
  if (!is_address_question(q) || !names.overlay.contains(q.q.qname.text)) return std::nullopt;
  const bool v6 = q.q.qtype == type_aaaa;
  auto reply = make_address_reply(query, names.overlay.lookup(q.q.qname.text, v6), names.ttl, reply_limit);
  if (!reply) return std::nullopt;  // not answerable here after all: the next step decides
  return answer_now{q.q.qname.text, std::move(*reply)};
}

// Step 5: a synthetic address for A, NODATA for anything else.
answer_now synthetic_answer(const parsed_query& q, byte_view query, std::size_t reply_limit, const local_names& names) {
  if (is_address_question(q) && q.q.qtype == type_a) {
    const std::vector<asio::ip::address> one{names.synthetic->address_for(q.q.qname.text)};
    return built(q, make_address_reply(query, one, names.ttl, reply_limit));
  }
  return built(q, make_error_reply(query, rcode::noerror));
}

}  // namespace

query_decision decide_query(byte_view query, std::size_t reply_limit, const local_names& names) {
  auto q = parse_query(query);
  if (!q || q->hdr.is_response()) return drop_query{};
  if (names.allow_query && !names.allow_query(q->q.qname.text, q->q.qtype)) return refuse{q->q.qname.text, rcode::nxdomain};
  if (auto local = overlay_answer(*q, query, reply_limit, names)) return std::move(*local);
  if (names.synthetic == nullptr) return forward_upstream{std::move(*q)};
  return synthetic_answer(*q, query, reply_limit, names);
}

}  // namespace netpen::dns
