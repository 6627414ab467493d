// [cli] --publish [ADDR:][HOST_PORT:]PORT[/udp]: the value syntax, the
// defaults (127.0.0.1, same port, tcp), conflicts, and its text.
#include <catch2/catch.hpp>

#include "app/cli/publish_spec.hpp"
#include "tests/unit/cli_test_support.hpp"

using namespace netpen::app;
using namespace netpen::app::cli_test;

TEST_CASE("publish: values are parsed like docker run -p", "[cli]") {
  struct row {
    std::string text;
    publish_spec want;
  };
  const std::vector<row> rows{
      {"8080", {"127.0.0.1", 8080, 8080, false}},
      {"18080:8000", {"127.0.0.1", 18080, 8000, false}},
      {"5353:53/udp", {"127.0.0.1", 5353, 53, true}},
      {"53/UDP", {"127.0.0.1", 53, 53, true}},
      {"80/tcp", {"127.0.0.1", 80, 80, false}},
      {"0.0.0.0:8080:80", {"0.0.0.0", 8080, 80, false}},
      {"192.0.2.7::80", {"192.0.2.7", 80, 80, false}},
      {"[::1]:8080:80", {"::1", 8080, 80, false}},
      {"[::]:5300:53/udp", {"::", 5300, 53, true}},
      {"[::1]::80", {"::1", 80, 80, false}},
  };
  for (const auto& r : rows) {
    INFO(r.text);
    auto p = cli::parse_publish("--publish", r.text);
    REQUIRE(p);
    CHECK(*p == r.want);
  }
}

TEST_CASE("bad --publish values are exit-2 errors naming the syntax", "[cli]") {
  const std::string syntax = "is not [ADDR:][HOST_PORT:]PORT[/udp]";
  for (const auto& [text, why] : std::vector<std::pair<std::string, std::string>>{
           {"a:80", "ports 1-65535"},
           {"0", "ports 1-65535"},
           {"70000", "ports 1-65535"},
           {"8080:", "ports 1-65535"},
           {"", "ports 1-65535"},
           {"80/sctp", "the protocol is tcp or udp"},
           {"80/", "the protocol is tcp or udp"},
           {"example.com:80:80", "ADDR is an IPv4 or [IPv6] address"},
           {"::1:80:80", "ADDR is an IPv4 or [IPv6] address"},
           {"[127.0.0.1]:80:80", "ADDR is an IPv4 or [IPv6] address"},
           {"[::1:80", "an IPv6 ADDR is written [ADDR]"},
           {"[::1]80:80", "an IPv6 ADDR is written [ADDR]"},
           {"127.0.0.1:1:2:3", "ports 1-65535"},
       }) {
    INFO(text);
    auto p = cli::parse_publish("--publish", text);
    REQUIRE_FALSE(p);
    CHECK(p.error().message == "--publish: '" + text + "' " + syntax + " (" + why + ")");
    auto r = parse({"--publish", text, "x"});
    REQUIRE_FALSE(r);
    CHECK(r.error().code == "bad-value");
  }
}

TEST_CASE("publish: the flag repeats, the same host port and protocol twice conflicts", "[cli]") {
  auto c = config_of({"--publish", "8080:80", "--publish", "8080:80/udp", "--publish=[::1]:9090:90", "x"});
  REQUIRE(c.publish.size() == 3);
  CHECK(c.publish[1].udp);
  CHECK(c.publish[2].host_address == "::1");
  CHECK(error_of({"--publish", "8080:80", "--publish", "8080:81", "x"}) ==
        "--publish: host port 8080 is published twice");
  CHECK(error_of({"--publish", "53/udp", "--publish", "53:54/udp", "x"}) ==
        "--publish: host port 53/udp is published twice");
  CHECK(config_of({"--root", "--publish", "80", "x"}).publish.size() == 1);
}

TEST_CASE("publish_text names protocol, host side and sandbox port", "[cli]") {
  CHECK(cli::publish_text({"127.0.0.1", 18080, 8000, false}) == "tcp 127.0.0.1:18080 -> sandbox port 8000");
  CHECK(cli::publish_text({"::1", 5353, 53, true}) == "udp [::1]:5353 -> sandbox port 53");
}
