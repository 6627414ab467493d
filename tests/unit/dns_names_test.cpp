// [dns] the name index (address -> the name the tree looked up) and the
// synthetic address range used for names only the proxy resolves.
#include <catch2/catch.hpp>

#include <set>
#include <thread>

#include "net/dns/name_index.hpp"
#include "net/dns/synthetic_names.hpp"

using namespace netpen::dns;
using asio::ip::make_address;

namespace {

answer_record a_record(std::string owner, const char* address) {
  answer_record r;
  r.name = std::move(owner);
  r.type = make_address(address).is_v4() ? type_a : type_aaaa;
  r.address = make_address(address);
  return r;
}

}  // namespace

TEST_CASE("names are normalized to lowercase without the trailing dot", "[dns]") {
  CHECK(normalize_name("Web.Example.") == "web.example");
  CHECK(normalize_name("a..") == "a");
  CHECK(normalize_name("") == "");
}

TEST_CASE("the name index maps answered addresses to the question's name", "[dns]") {
  name_index idx;
  answer_record cname;
  cname.name = "www.example";
  cname.type = type_cname;
  cname.target = "cdn.example";
  idx.record("WWW.Example.", {cname, a_record("cdn.example", "203.0.113.7"), a_record("cdn.example", "2001:db8::7")});
  CHECK(idx.lookup(make_address("203.0.113.7")) == "www.example");
  CHECK(idx.lookup(make_address("2001:db8::7")) == "www.example");
  CHECK_FALSE(idx.lookup(make_address("203.0.113.8")));
  CHECK_FALSE(idx.lookup(make_address("::ffff:203.0.113.7")));  // another family is another address
  CHECK(idx.size() == 2);
  // The latest lookup wins.
  idx.record("other.example", {a_record("other.example", "203.0.113.7")});
  CHECK(idx.lookup(make_address("203.0.113.7")) == "other.example");
  CHECK(idx.size() == 2);
}

TEST_CASE("the name index forgets its oldest entries beyond capacity", "[dns]") {
  name_index idx(3);
  idx.remember(make_address("192.0.2.1"), "one");
  idx.remember(make_address("192.0.2.2"), "two");
  idx.remember(make_address("192.0.2.3"), "three");
  idx.remember(make_address("192.0.2.4"), "four");
  CHECK(idx.size() == 3);
  CHECK_FALSE(idx.lookup(make_address("192.0.2.1")));
  CHECK(idx.lookup(make_address("192.0.2.4")) == "four");
  idx.remember(make_address("192.0.2.5"), "");  // empty names are not kept
  CHECK(idx.size() == 3);
}

TEST_CASE("the name index is safe to use from several threads", "[dns]") {
  name_index idx(256);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&idx, t] {
      for (int i = 0; i < 2000; ++i) {
        const auto a = asio::ip::address_v4(0xc0000200u + static_cast<std::uint32_t>(i % 512));
        idx.remember(a, "n" + std::to_string(t));
        (void)idx.lookup(a);
      }
    });
  for (auto& th : threads) th.join();
  CHECK(idx.size() == 256);
}

TEST_CASE("synthetic addresses come from 198.18.0.0/15, one per name", "[dns][proxy]") {
  synthetic_names names;
  const auto a = names.address_for("Hidden.Lab.Test.");
  CHECK(a.to_string() == "198.18.0.1");
  CHECK(names.address_for("hidden.lab.test") == a);
  const auto b = names.address_for("web.lab.test");
  CHECK(b.to_string() == "198.18.0.2");
  CHECK(names.name_for(a) == "hidden.lab.test");
  CHECK(names.name_for(b) == "web.lab.test");
  CHECK_FALSE(names.name_for(make_address("198.18.0.3")));   // not handed out
  CHECK_FALSE(names.name_for(make_address("198.18.0.0")));   // the network address
  CHECK_FALSE(names.name_for(make_address("203.0.113.1")));  // outside
  CHECK(synthetic_names::in_range(make_address("198.19.255.254")));
  CHECK_FALSE(synthetic_names::in_range(make_address("198.20.0.1")));
  CHECK_FALSE(synthetic_names::in_range(make_address("198.17.255.255")));
  CHECK_FALSE(synthetic_names::in_range(make_address("2001:db8::1")));
}

TEST_CASE("a full synthetic range gives the oldest name's address to the new one", "[dns][proxy]") {
  synthetic_names names(2);
  const auto a = names.address_for("a.test");
  const auto b = names.address_for("b.test");
  const auto c = names.address_for("c.test");
  CHECK(c == a);
  CHECK(names.name_for(a) == "c.test");
  CHECK(names.name_for(b) == "b.test");
  CHECK(names.address_for("b.test") == b);
  // a.test lost its address; asking again takes the next slot (b's).
  CHECK(names.address_for("a.test") == b);
  CHECK(names.name_for(b) == "a.test");
}

TEST_CASE("the synthetic range holds 131070 names", "[dns][proxy]") {
  synthetic_names names;
  std::set<std::string> seen;
  asio::ip::address_v4 last;
  for (int i = 0; i < 131070; ++i) last = names.address_for("n" + std::to_string(i) + ".test");
  CHECK(last.to_string() == "198.19.255.254");
  CHECK(names.name_for(last) == "n131069.test");
  CHECK(names.address_for("one-more.test").to_string() == "198.18.0.1");
}
