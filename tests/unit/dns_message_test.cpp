// Unit tests for the DNS wire codec: header/question parsing, compression
// pointers and their loops, truncation, limits, answer extraction, replies
// built byte for byte, TCP framing.
#include <catch2/catch.hpp>

#include <initializer_list>
#include <random>

#include "net/dns/message.hpp"

using namespace netpen::dns;

namespace {

bytes wire(std::initializer_list<int> v) {
  bytes out;
  for (int b : v) out.push_back(static_cast<std::byte>(b));
  return out;
}

void append(bytes& out, std::initializer_list<int> v) {
  for (int b : v) out.push_back(static_cast<std::byte>(b));
}

// id 0xabcd, RD, one question "a.b" type `qtype` class IN.
bytes query_ab(int qtype = 1) {
  return wire({0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,  //
               1, 'a', 1, 'b', 0, 0, qtype, 0, 1});
}

// A response to "www.example.com A": CNAME to "web.example.com" (compressed),
// then an A record for it, then an AAAA record, then an MX (ignored).
bytes sample_response() {
  bytes m = wire({0x12, 0x34, 0x81, 0x80, 0, 1, 0, 4, 0, 0, 0, 0});
  // offset 12: www.example.com
  append(m, {3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1});
  // answer 1: www.example.com CNAME web.<ptr to example.com at 16>
  append(m, {0xc0, 12, 0, 5, 0, 1, 0, 0, 0x0e, 0x10, 0, 6, 3, 'w', 'e', 'b', 0xc0, 16});
  // answer 2: web.example.com (pointer to the CNAME target at offset 45) A 93.184.216.34, TTL 300
  append(m, {0xc0, 45, 0, 1, 0, 1, 0, 0, 1, 0x2c, 0, 4, 93, 184, 216, 34});
  // answer 3: AAAA 2001:db8::1, TTL with the top bit set (treated as 0)
  append(m, {0xc0, 45, 0, 28, 0, 1, 0x80, 0, 0, 0, 0, 16,  //
             0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  // answer 4: MX, skipped
  append(m, {0xc0, 12, 0, 15, 0, 1, 0, 0, 0, 60, 0, 4, 0, 10, 0xc0, 16});
  return m;
}

}  // namespace

TEST_CASE("header needs twelve bytes", "[dns]") {
  const bytes q = query_ab();
  for (std::size_t n = 0; n < header_size; ++n) CHECK_FALSE(parse_header(byte_view(q).first(n)));
  auto h = parse_header(q);
  REQUIRE(h);
  CHECK(h->id == 0xabcd);
  CHECK(h->flags == 0x0100);
  CHECK(h->qdcount == 1);
  CHECK_FALSE(h->is_response());
  CHECK(h->opcode() == 0);
}

TEST_CASE("query question parses", "[dns]") {
  const bytes q = query_ab(28);
  auto p = parse_query(q);
  REQUIRE(p);
  CHECK(p->q.qname.text == "a.b");
  CHECK(p->q.qname.wire == wire({1, 'a', 1, 'b', 0}));
  CHECK(p->q.qtype == type_aaaa);
  CHECK(p->q.qclass == class_in);
  CHECK(p->end == q.size());
}

TEST_CASE("query truncated at every length is rejected", "[dns]") {
  const bytes q = query_ab();
  for (std::size_t n = 0; n < q.size(); ++n) CHECK_FALSE(parse_query(byte_view(q).first(n)));
}

TEST_CASE("query without a question is rejected", "[dns]") {
  CHECK_FALSE(parse_query(wire({0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})));
}

TEST_CASE("root name", "[dns]") {
  auto p = parse_query(wire({0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1}));
  REQUIRE(p);
  CHECK(p->q.qname.text.empty());
  CHECK(p->q.qname.wire == wire({0}));
}

TEST_CASE("compression pointers are followed", "[dns]") {
  const bytes m = sample_response();
  std::size_t next = 0;
  auto n = read_name(m, 45, next);  // "web" + pointer to "example.com"
  REQUIRE(n);
  CHECK(n->text == "web.example.com");
  CHECK(next == 51);
  auto chained = read_name(m, 67, next);  // pointer to 45, which points to 16
  REQUIRE(chained);
  CHECK(chained->text == "web.example.com");
  CHECK(next == 69);
}

TEST_CASE("pointer loops and forward pointers are rejected", "[dns]") {
  std::size_t next = 0;
  SECTION("self pointer") {
    const bytes m = wire({0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1});
    CHECK_FALSE(read_name(m, 12, next));
    CHECK_FALSE(parse_query(m));
  }
  SECTION("two pointers to each other") {
    const bytes m = wire({0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 14, 0xc0, 12, 0, 1, 0, 1});
    CHECK_FALSE(read_name(m, 12, next));
    CHECK_FALSE(read_name(m, 14, next));
  }
  SECTION("label then pointer back to itself") {
    const bytes m = wire({0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0xc0, 12, 0, 1, 0, 1});
    CHECK_FALSE(read_name(m, 12, next));
  }
  SECTION("pointer past the end") {
    const bytes m = wire({0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xff, 0xff});
    CHECK_FALSE(read_name(m, 12, next));
  }
  SECTION("truncated pointer") {
    const bytes m = wire({0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0});
    CHECK_FALSE(read_name(m, 12, next));
  }
}

TEST_CASE("label and name length limits", "[dns]") {
  std::size_t next = 0;
  SECTION("64-byte label is an extended label type") {
    bytes m = wire({0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 64});
    m.resize(m.size() + 64, std::byte{'x'});
    append(m, {0, 0, 1, 0, 1});
    CHECK_FALSE(read_name(m, 12, next));
  }
  SECTION("63-byte labels up to 255 bytes pass, one more byte fails") {
    auto build = [](std::size_t last_label) {
      bytes m = wire({0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0});
      for (int i = 0; i < 3; ++i) {
        m.push_back(std::byte{63});
        m.resize(m.size() + 63, std::byte{'x'});
      }
      m.push_back(static_cast<std::byte>(last_label));
      m.resize(m.size() + last_label, std::byte{'y'});
      append(m, {0, 0, 1, 0, 1});
      return m;
    };
    auto ok = read_name(build(61), 12, next);  // 3*64 + 62 + 1 = 255
    REQUIRE(ok);
    CHECK(ok->wire.size() == 255);
    CHECK_FALSE(read_name(build(62), 12, next));
  }
  SECTION("0x40 and 0x80 label types") {
    CHECK_FALSE(read_name(wire({0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x41, 0}), 12, next));
    CHECK_FALSE(read_name(wire({0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x81, 0}), 12, next));
  }
}

TEST_CASE("unusual label bytes are escaped in text form", "[dns]") {
  const bytes m = wire({0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'a', '.', 'b', 2, 0, '\\', 0, 0, 1, 0, 1});
  std::size_t next = 0;
  auto n = read_name(m, 12, next);
  REQUIRE(n);
  CHECK(n->text == "a\\.b.\\000\\\\");
}

TEST_CASE("answers are extracted", "[dns]") {
  const auto recs = extract_answers(sample_response());
  REQUIRE(recs.size() == 3);
  CHECK(recs[0].name == "www.example.com");
  CHECK(recs[0].type == type_cname);
  CHECK(recs[0].ttl == 3600);
  CHECK(recs[0].target == "web.example.com");
  CHECK(recs[1].name == "web.example.com");
  CHECK(recs[1].type == type_a);
  CHECK(recs[1].ttl == 300);
  CHECK(recs[1].address == asio::ip::make_address("93.184.216.34"));
  CHECK(recs[2].type == type_aaaa);
  CHECK(recs[2].ttl == 0);
  CHECK(recs[2].address == asio::ip::make_address("2001:db8::1"));
}

TEST_CASE("answers of a truncated response are a prefix, never a crash", "[dns]") {
  const bytes m = sample_response();
  const auto full = extract_answers(m);
  for (std::size_t n = 0; n < m.size(); ++n) {
    const auto part = extract_answers(byte_view(m).first(n));
    REQUIRE(part.size() <= full.size());
    for (std::size_t i = 0; i < part.size(); ++i) CHECK(part[i].name == full[i].name);
  }
}

TEST_CASE("answers with a bad rdlength stop extraction", "[dns]") {
  bytes m = sample_response();
  m[51 + 11] = std::byte{5};  // the A record's rdlength 4 -> 5 (shifts everything after)
  const auto recs = extract_answers(m);
  REQUIRE(recs.size() >= 1);
  CHECK(recs[0].type == type_cname);
  for (const auto& r : recs) CHECK(r.type != type_a);
}

TEST_CASE("error replies keep id, question and RD", "[dns]") {
  bytes q = query_ab();
  append(q, {0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0});  // an EDNS OPT record
  q[11] = std::byte{1};                               // arcount 1
  auto servfail = make_error_reply(q, rcode::servfail);
  REQUIRE(servfail);
  CHECK(*servfail == wire({0xab, 0xcd, 0x81, 0x82, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 1, 'b', 0, 0, 1, 0, 1}));
  auto nx = make_error_reply(q, rcode::nxdomain);
  REQUIRE(nx);
  CHECK((*nx)[3] == std::byte{0x83});
  auto refused = make_error_reply(q, rcode::refused);
  REQUIRE(refused);
  CHECK((*refused)[3] == std::byte{0x85});
}

TEST_CASE("error reply to an unparseable question is header-only", "[dns]") {
  const bytes q = wire({0x00, 0x07, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 5, 'a'});
  auto r = make_error_reply(q, rcode::formerr);
  REQUIRE(r);
  CHECK(*r == wire({0x00, 0x07, 0x81, 0x81, 0, 0, 0, 0, 0, 0, 0, 0}));
  CHECK_FALSE(make_error_reply(wire({1, 2, 3}), rcode::formerr));
}

TEST_CASE("address reply for A", "[dns]") {
  const std::vector<asio::ip::address> addrs{asio::ip::make_address("1.2.3.4"), asio::ip::make_address("::1"),
                                             asio::ip::make_address("5.6.7.8")};
  auto r = make_address_reply(query_ab(), addrs, 60);
  REQUIRE(r);
  CHECK(*r == wire({0xab, 0xcd, 0x85, 0x80, 0, 1, 0, 2, 0, 0, 0, 0, 1, 'a', 1, 'b', 0, 0, 1, 0, 1,  //
                    0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 1, 2, 3, 4,                          //
                    0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 5, 6, 7, 8}));
  const auto recs = extract_answers(*r);
  REQUIRE(recs.size() == 2);
  CHECK(recs[0].name == "a.b");
}

TEST_CASE("address reply for AAAA", "[dns]") {
  const std::vector<asio::ip::address> addrs{asio::ip::make_address("1.2.3.4"),
                                             asio::ip::make_address("fd00::1")};
  auto r = make_address_reply(query_ab(28), addrs, 0x01020304);
  REQUIRE(r);
  CHECK(*r == wire({0xab, 0xcd, 0x85, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 1, 'a', 1, 'b', 0, 0, 28, 0, 1,  //
                    0xc0, 12, 0, 28, 0, 1, 1, 2, 3, 4, 0, 16,                                      //
                    0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}));
}

TEST_CASE("address reply without a matching family is NODATA", "[dns]") {
  auto r = make_address_reply(query_ab(28), {asio::ip::make_address("1.2.3.4")}, 60);
  REQUIRE(r);
  CHECK(*r == wire({0xab, 0xcd, 0x85, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 1, 'b', 0, 0, 28, 0, 1}));
}

TEST_CASE("address reply over the size limit is truncated with TC", "[dns]") {
  std::vector<asio::ip::address> addrs;
  for (unsigned char i = 1; i <= 40; ++i) addrs.emplace_back(asio::ip::address_v4({10, 0, 0, i}));
  auto r = make_address_reply(query_ab(), addrs, 60, classic_udp_limit);
  REQUIRE(r);
  CHECK(r->size() <= classic_udp_limit);
  auto h = parse_header(*r);
  REQUIRE(h);
  CHECK(h->truncated());
  CHECK(h->ancount == (512 - 21) / 16);
  auto full = make_address_reply(query_ab(), addrs, 60);
  REQUIRE(full);
  CHECK_FALSE(parse_header(*full)->truncated());
  CHECK(parse_header(*full)->ancount == 40);
}

TEST_CASE("address reply only for IN A/AAAA questions", "[dns]") {
  CHECK_FALSE(make_address_reply(query_ab(15), {}, 60));
  CHECK_FALSE(make_address_reply(wire({1, 2, 3}), {}, 60));
}

TEST_CASE("ids and name comparison", "[dns]") {
  bytes q = query_ab();
  set_id(q, 0x0102);
  CHECK(parse_header(q)->id == 0x0102);
  CHECK(same_name(wire({3, 'W', 'w', 'W', 0}), wire({3, 'w', 'W', 'w', 0})));
  CHECK_FALSE(same_name(wire({3, 'w', 'w', 'x', 0}), wire({3, 'w', 'w', 'w', 0})));
  CHECK_FALSE(same_name(wire({1, 'a', 0}), wire({1, 'a', 1, 'b', 0})));
}

TEST_CASE("TCP framing", "[dns]") {
  const bytes q = query_ab();
  auto framed = frame_for_tcp(q);
  REQUIRE(framed);
  REQUIRE(framed->size() == q.size() + 2);
  CHECK((*framed)[0] == std::byte{0});
  CHECK((*framed)[1] == static_cast<std::byte>(q.size()));
  bytes two = *framed;
  two.insert(two.end(), framed->begin(), framed->end());
  for (std::size_t n = 0; n < framed->size(); ++n) CHECK_FALSE(next_tcp_frame(byte_view(two).first(n)));
  auto f = next_tcp_frame(two);
  REQUIRE(f);
  CHECK(f->consumed == framed->size());
  CHECK(bytes(f->message.begin(), f->message.end()) == q);
  auto g = next_tcp_frame(byte_view(two).subspan(f->consumed));
  REQUIRE(g);
  CHECK(g->consumed == framed->size());
  CHECK_FALSE(frame_for_tcp(bytes(70000)));
  CHECK(next_tcp_frame(wire({0, 0}))->consumed == 2);
}

TEST_CASE("mutated messages never crash the parsers", "[dns]") {
  std::mt19937 gen(12345);
  const bytes base = sample_response();
  for (int i = 0; i < 5000; ++i) {
    bytes m = base;
    const int flips = 1 + static_cast<int>(gen() % 4);
    for (int k = 0; k < flips; ++k) m[gen() % m.size()] = static_cast<std::byte>(gen() & 0xff);
    m.resize(gen() % (m.size() + 1));
    (void)parse_query(m);
    (void)extract_answers(m);
    auto e = make_error_reply(m, rcode::servfail);
    if (m.size() >= header_size) CHECK(e);
    (void)make_address_reply(m, {asio::ip::make_address("192.0.2.1")}, 1);
    (void)next_tcp_frame(m);
  }
}
