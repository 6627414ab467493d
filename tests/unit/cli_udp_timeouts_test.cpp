// Unit tests for the UDP flow timeout options.
#include <catch2/catch.hpp>

#include "tests/unit/cli_test_support.hpp"

using namespace netpen::app;
using namespace netpen::app::cli_test;

TEST_CASE("UDP timeouts default to 30 s unanswered and 180 s answered", "[cli]") {
  auto c = config_of({"--", "true"});
  CHECK(c.udp_timeout_s == 30);
  CHECK(c.udp_stream_timeout_s == 180);
}

TEST_CASE("UDP timeouts are set by --udp-timeout and --udp-stream-timeout", "[cli]") {
  auto c = config_of({"--udp-timeout", "5", "--udp-stream-timeout=600", "--", "true"});
  CHECK(c.udp_timeout_s == 5);
  CHECK(c.udp_stream_timeout_s == 600);
  REQUIRE(parse({"--udp-timeout", "5", "--", "true"}).has_value());
}

TEST_CASE("UDP timeouts must be positive whole seconds", "[cli]") {
  CHECK(error_of({"--udp-timeout", "0", "--", "true"}).starts_with("--udp-timeout:"));
  CHECK(error_of({"--udp-timeout", "abc", "--", "true"}).starts_with("--udp-timeout:"));
  CHECK(error_of({"--udp-stream-timeout", "-3", "--", "true"}).starts_with("--udp-stream-timeout:"));
  CHECK(error_of({"--udp-timeout", "1", "--udp-timeout", "2", "--", "true"}).find("more than once") != std::string::npos);
}
