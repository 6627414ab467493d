// Unit tests for the forwarder's per-query decision (local_answer.hpp), one
// branch at a time: dropped, refused by the policy, answered from the
// overlay, forwarded, answered from the synthetic range; no sockets.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "net/dns/local_answer.hpp"
#include "tests/unit/dns_test_util.hpp"

using namespace netpen::dns;
using asio::ip::make_address;
using netpen::dns_test::make_query;

namespace {

const std::function<bool(const std::string&, std::uint16_t)> allow_all{};

hosts_table sample_overlay() {
  hosts_table t;
  t.add(make_address("10.1.2.3"), {"Api.Test"});
  t.add(make_address("fd00::5"), {"v6.test"});
  return t;
}

// The reply of an answer_now decision (fails the test otherwise).
bytes reply_of(const query_decision& d) {
  REQUIRE(std::holds_alternative<answer_now>(d));
  return std::get<answer_now>(d).reply;
}

rcode code_of(const bytes& reply) { return parse_header(reply)->response_code(); }

}  // namespace

TEST_CASE("local answer: what is not a query is dropped", "[dns]") {
  const hosts_table overlay = sample_overlay();
  const local_names names{.overlay = overlay, .allow_query = allow_all};
  CHECK(std::holds_alternative<drop_query>(decide_query(bytes{std::byte{1}, std::byte{2}}, max_message, names)));
  auto cut = make_query(1, "api.test");
  cut.pop_back();  // the question's last byte
  CHECK(std::holds_alternative<drop_query>(decide_query(cut, max_message, names)));
  const auto response = *make_error_reply(make_query(2, "api.test"), rcode::noerror);
  CHECK(std::holds_alternative<drop_query>(decide_query(response, max_message, names)));
}

TEST_CASE("local answer: a name the policy refuses gets NXDOMAIN, overlay and synthetic alike", "[dns][policy]") {
  const hosts_table overlay = sample_overlay();
  std::vector<std::string> asked;
  const std::function<bool(const std::string&, std::uint16_t)> allow = [&](const std::string& name, std::uint16_t) {
    asked.push_back(name);
    return name != "evil.test" && name != "api.test";
  };
  synthetic_names synthetic;
  for (synthetic_names* mode : {static_cast<synthetic_names*>(nullptr), &synthetic}) {
    const local_names names{.overlay = overlay, .allow_query = allow, .synthetic = mode};
    for (const auto& [name, type] : {std::pair{"evil.test", type_a}, std::pair{"api.test", type_a},
                                     std::pair{"evil.test", std::uint16_t{15}}}) {
      const auto d = decide_query(make_query(3, name, type), max_message, names);
      REQUIRE(std::holds_alternative<refuse>(d));
      CHECK(std::get<refuse>(d).code == rcode::nxdomain);
      CHECK(std::get<refuse>(d).qname == name);
    }
    CHECK_FALSE(std::holds_alternative<refuse>(decide_query(make_query(4, "good.test"), max_message, names)));
  }
  CHECK(asked == std::vector<std::string>{"evil.test", "api.test", "evil.test", "good.test", "evil.test",
                                          "api.test", "evil.test", "good.test"});
}

TEST_CASE("local answer: overlay names are answered here for A and AAAA", "[dns]") {
  const hosts_table overlay = sample_overlay();
  const local_names names{.overlay = overlay, .allow_query = allow_all, .ttl = 42};
  const auto a = decide_query(make_query(5, "API.test"), classic_udp_limit, names);
  REQUIRE(std::holds_alternative<answer_now>(a));
  CHECK(std::get<answer_now>(a).qname == "API.test");
  const auto records = extract_answers(reply_of(a));
  REQUIRE(records.size() == 1);
  CHECK(records[0].address == make_address("10.1.2.3"));
  CHECK(records[0].ttl == 42);
  CHECK(parse_header(reply_of(a))->id == 5);

  const auto v6 = reply_of(decide_query(make_query(6, "v6.test", type_aaaa), max_message, names));
  REQUIRE(extract_answers(v6).size() == 1);
  CHECK(extract_answers(v6)[0].address == make_address("fd00::5"));

  SECTION("a name without an address of the family gets NODATA") {
    const auto nodata = reply_of(decide_query(make_query(7, "api.test", type_aaaa), max_message, names));
    CHECK(code_of(nodata) == rcode::noerror);
    CHECK(parse_header(nodata)->ancount == 0);
    CHECK(parse_header(nodata)->id == 7);
  }
}

TEST_CASE("local answer: an overlay reply is cut to the reply limit with TC set", "[dns]") {
  hosts_table overlay;
  std::vector<std::string> names_list{"many.test"};
  for (int i = 1; i <= 60; ++i) overlay.add(make_address("10.0.0." + std::to_string(i)), names_list);
  const local_names names{.overlay = overlay, .allow_query = allow_all};
  const auto udp = reply_of(decide_query(make_query(8, "many.test"), classic_udp_limit, names));
  CHECK(udp.size() <= classic_udp_limit);
  CHECK(parse_header(udp)->truncated());
  CHECK(extract_answers(udp).size() < 60);
  const auto tcp = reply_of(decide_query(make_query(9, "many.test"), max_message, names));
  CHECK_FALSE(parse_header(tcp)->truncated());
  CHECK(extract_answers(tcp).size() == 60);
}

TEST_CASE("local answer: everything else is forwarded in forwarding mode", "[dns]") {
  const hosts_table overlay = sample_overlay();
  const local_names names{.overlay = overlay, .allow_query = allow_all};
  const auto forwarded = [&](const bytes& query) {
    const auto d = decide_query(query, max_message, names);
    REQUIRE(std::holds_alternative<forward_upstream>(d));
    return std::get<forward_upstream>(d).query;
  };
  const auto other = forwarded(make_query(10, "Remote.Test"));
  CHECK(other.hdr.id == 10);
  CHECK(other.q.qname.text == "Remote.Test");
  CHECK(other.q.qtype == type_a);
  // An overlay name, but not an address question: another type, another
  // class, another opcode.
  CHECK(forwarded(make_query(11, "api.test", 15)).q.qtype == 15);
  auto chaos = make_query(12, "api.test");
  chaos.back() = std::byte{3};  // class CH
  CHECK(forwarded(chaos).q.qclass == 3);
  auto status = make_query(13, "api.test");
  status[2] |= std::byte{0x10};  // opcode 2 (STATUS)
  CHECK(forwarded(status).hdr.opcode() == 2);
}

TEST_CASE("local answer: synthetic mode answers A from the range, anything else NODATA", "[dns][proxy]") {
  const hosts_table overlay = sample_overlay();
  synthetic_names synthetic;
  const local_names names{.overlay = overlay, .allow_query = allow_all, .synthetic = &synthetic, .ttl = 7};
  const auto a = decide_query(make_query(14, "Web.Example"), classic_udp_limit, names);
  REQUIRE(std::holds_alternative<answer_now>(a));
  CHECK(std::get<answer_now>(a).qname == "Web.Example");
  const auto records = extract_answers(reply_of(a));
  REQUIRE(records.size() == 1);
  CHECK(synthetic_names::in_range(records[0].address));
  CHECK(synthetic.name_for(records[0].address) == "web.example");
  CHECK(records[0].ttl == 7);
  // The same name keeps its address.
  const auto again = extract_answers(reply_of(decide_query(make_query(15, "WEB.example"), max_message, names)));
  REQUIRE(again.size() == 1);
  CHECK(again[0].address == records[0].address);

  SECTION("AAAA, other types and other classes: NODATA") {
    auto chaos = make_query(16, "web.example");
    chaos.back() = std::byte{3};
    for (const auto& query : {make_query(16, "web.example", type_aaaa), make_query(16, "web.example", 15), chaos}) {
      const auto r = reply_of(decide_query(query, max_message, names));
      CHECK(code_of(r) == rcode::noerror);
      CHECK(parse_header(r)->ancount == 0);
      CHECK(parse_header(r)->id == 16);
    }
  }
  SECTION("overlay names keep their real addresses, or NODATA") {
    const auto pinned = extract_answers(reply_of(decide_query(make_query(17, "api.test"), max_message, names)));
    REQUIRE(pinned.size() == 1);
    CHECK(pinned[0].address == make_address("10.1.2.3"));
    const auto nodata = reply_of(decide_query(make_query(18, "api.test", type_aaaa), max_message, names));
    CHECK(parse_header(nodata)->ancount == 0);
    CHECK_FALSE(synthetic.name_for(asio::ip::address_v4(synthetic_names::range_base + 2)));
  }
}
