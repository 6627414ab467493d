// libFuzzer target: the DNS wire codec (net/dns message) on a query from
// the tree and a reply from an upstream resolver, and the forwarder's
// decision (local_answer) and event building (exchange_event) on them.
// Input: the first byte picks options (reply limit, synthetic mode, which
// family the overlay answers), the next two the query's length; the query
// follows, the reply is the rest. Both are also fed as TCP framing.
// Oracles besides the sanitizers: replies built here parse, keep the id and
// the question, and stay within their size limit; a query netpen builds for
// a parsed name parses back to the same name; answers extracted from a
// reply built here are of the question's family.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "fuzz/fuzz_require.hpp"
#include "net/dns/exchange_event.hpp"
#include "net/dns/hosts_file.hpp"
#include "net/dns/local_answer.hpp"
#include "net/dns/message.hpp"
#include "net/dns/synthetic_names.hpp"

namespace {

using namespace netpen::dns;

void check_reply_to(byte_view query, const bytes& reply, std::size_t limit) {
  const auto q = parse_query(query);
  const auto h = parse_header(reply);
  FUZZ_REQUIRE(h.has_value() && h->is_response());
  FUZZ_REQUIRE(reply.size() <= std::max(limit, q ? q->end : header_size));
  FUZZ_REQUIRE(h->id == parse_header(query)->id);
  if (!q) return;
  const auto r = parse_query(reply);
  FUZZ_REQUIRE(r.has_value() && same_name(r->q.qname.wire, q->q.qname.wire));
  FUZZ_REQUIRE(r->q.qtype == q->q.qtype && r->q.qclass == q->q.qclass);
  for (const auto& a : extract_answers(reply)) {
    if (a.type == type_a) FUZZ_REQUIRE(a.address.is_v4() && q->q.qtype == type_a);
    if (a.type == type_aaaa) FUZZ_REQUIRE(a.address.is_v6() && q->q.qtype == type_aaaa);
  }
}

void codec(byte_view query, byte_view reply, std::uint8_t opts) {
  (void)extract_answers(reply);
  (void)query_event(query, "udp");
  (void)answer_event(query, reply, "tcp");
  if (!parse_header(query)) return;
  if (auto e = make_error_reply(query, static_cast<rcode>(opts % 6))) check_reply_to(query, *e, max_message);
  const std::size_t limit = (opts & 0x40) ? classic_udp_limit : max_message;
  const std::vector<asio::ip::address> addresses{asio::ip::make_address("10.0.2.7"), asio::ip::make_address("fd00::7")};
  if (auto r = make_address_reply(query, addresses, 60, limit)) check_reply_to(query, *r, limit);
  const auto q = parse_query(query);
  if (!q || q->q.qname.text.empty() || q->q.qname.text.find('\\') != std::string::npos) return;
  if (auto again = make_address_query(7, q->q.qname.text, q->q.qtype)) {
    const auto p = parse_query(*again);
    FUZZ_REQUIRE(p.has_value() && same_name(p->q.qname.wire, q->q.qname.wire));
  }
}

void decision(byte_view query, std::uint8_t opts) {
  hosts_table overlay;
  overlay.add(asio::ip::make_address("10.0.2.9"), {"fuzz.example", "Host"});
  overlay.add(asio::ip::make_address("fd00::9"), {"fuzz.example"});
  const std::function<bool(const std::string&, std::uint16_t)> allow = [&](const std::string& name, std::uint16_t) {
    return (opts & 0x10) == 0 || name.size() % 2 == 0;
  };
  synthetic_names synthetic(4);
  const local_names names{overlay, allow, (opts & 0x20) ? &synthetic : nullptr, 60};
  const std::size_t limit = (opts & 0x40) ? classic_udp_limit : max_message;
  const auto d = decide_query(query, limit, names);
  if (const auto* a = std::get_if<answer_now>(&d)) check_reply_to(query, a->reply, limit);
}

void tcp_frames(byte_view stream) {
  while (auto f = next_tcp_frame(stream)) {
    FUZZ_REQUIRE(f->consumed > 0 && f->consumed <= stream.size() && f->message.size() + 2 == f->consumed);
    (void)parse_query(f->message);
    stream = stream.subspan(f->consumed);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  const auto in = std::as_bytes(std::span(data, size));
  const std::uint8_t opts = data[0];
  const std::size_t qlen = std::min<std::size_t>(size - 3, std::size_t{data[1]} << 8 | data[2]);
  const auto query = in.subspan(3, qlen);
  const auto reply = in.subspan(3 + qlen);
  codec(query, reply, opts);
  decision(query, opts);
  tcp_frames(in.subspan(3));
  return 0;
}
