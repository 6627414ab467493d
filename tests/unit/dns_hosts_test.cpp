// Unit tests for hosts-file parsing, lookup and the sandbox's merged
// /etc/hosts.
#include <catch2/catch.hpp>

#include "net/dns/hosts_file.hpp"

using namespace netpen::dns;
using asio::ip::make_address;

TEST_CASE("hosts file with comments, several names, both families", "[dns]") {
  const auto t = parse_hosts(
      "# a comment\n"
      "\n"
      "10.0.0.1  api.test  API2.test   # trailing comment\n"
      "\t10.0.0.2\tapi.test\r\n"
      "fd00::1 api.test v6only.test\n"
      "fe80::1%1 scoped.test\n"
      "10.0.0.1 api.test\n"  // duplicate address: listed once
      "   # indented comment\n"
      "10.0.0.3 last.test");  // no final newline
  REQUIRE(t);
  CHECK(t->entries().size() == 6);
  CHECK(t->lookup("api.test", false) ==
        std::vector<asio::ip::address>{make_address("10.0.0.1"), make_address("10.0.0.2")});
  CHECK(t->lookup("api.test", true) == std::vector<asio::ip::address>{make_address("fd00::1")});
  CHECK(t->lookup("api2.test", false) == std::vector<asio::ip::address>{make_address("10.0.0.1")});
  CHECK(t->lookup("v6only.test", false).empty());
  CHECK(t->contains("v6only.test"));
  CHECK(t->lookup("last.test", false).size() == 1);
  CHECK(t->lookup("scoped.test", true).size() == 1);
  CHECK_FALSE(t->contains("other.test"));
}

TEST_CASE("hosts lookup is case-insensitive and trailing-dot tolerant", "[dns]") {
  const auto t = parse_hosts("192.0.2.7 Mixed.Example.\n");
  REQUIRE(t);
  CHECK(t->lookup("mixed.example", false).size() == 1);
  CHECK(t->lookup("MIXED.EXAMPLE.", false).size() == 1);
  CHECK(t->contains("mixed.example."));
  CHECK(normalize_hostname("A.B.") == "a.b");
}

TEST_CASE("invalid hosts lines are reported with their line number", "[dns]") {
  SECTION("bad address") {
    const auto t = parse_hosts("10.0.0.1 ok.test\n\n300.1.1.1 bad.test\n", "/tmp/h");
    REQUIRE_FALSE(t);
    CHECK(t.error().code == "bad-hosts-file");
    CHECK(t.error().message.rfind("/tmp/h:3: ", 0) == 0);
    CHECK(t.error().message.find("300.1.1.1") != std::string::npos);
  }
  SECTION("address without a name") {
    const auto t = parse_hosts("10.0.0.1   # nothing\n", "f");
    REQUIRE_FALSE(t);
    CHECK(t.error().message.rfind("f:1: ", 0) == 0);
  }
  SECTION("invalid names") {
    CHECK_FALSE(parse_hosts("10.0.0.1 bad..name\n"));
    CHECK_FALSE(parse_hosts("10.0.0.1 bad/name\n"));
    CHECK_FALSE(parse_hosts("10.0.0.1 " + std::string(64, 'a') + ".test\n"));
    CHECK_FALSE(parse_hosts("10.0.0.1 .\n"));
    CHECK(parse_hosts("10.0.0.1 " + std::string(63, 'a') + ".under_score-ok\n"));
  }
  SECTION("a name as the address") {
    CHECK_FALSE(parse_hosts("api.test 10.0.0.1\n"));
  }
}

TEST_CASE("empty hosts file is an empty table", "[dns]") {
  const auto t = parse_hosts("# nothing\n\n");
  REQUIRE(t);
  CHECK(t->empty());
}

TEST_CASE("overlay comes before the host's file", "[dns]") {
  const auto overlay = parse_hosts("10.0.0.1 api.test api\nfd00::1 api.test\n");
  REQUIRE(overlay);
  const std::string host = "127.0.0.1 localhost\n10.9.9.9 api.test";
  const std::string merged = render_overlay(host, *overlay);
  CHECK(merged ==
        "# netpen --hosts-file overlay (these entries take precedence)\n"
        "10.0.0.1\tapi.test\tapi\n"
        "fd00::1\tapi.test\n"
        "# host /etc/hosts\n"
        "127.0.0.1 localhost\n"
        "10.9.9.9 api.test\n");
  // The merged file is itself valid and resolves to the overlay first.
  const auto reparsed = parse_hosts(merged);
  REQUIRE(reparsed);
  CHECK(reparsed->lookup("api.test", false).front() == make_address("10.0.0.1"));
  CHECK(render_overlay("", hosts_table{}) ==
        "# netpen --hosts-file overlay (these entries take precedence)\n# host /etc/hosts\n");
}
