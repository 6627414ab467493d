// [cli] --host-port: TCP and UDP ports, ranges, comma lists and repeats
// parsed into run_config; bad values are usage errors.
#include <catch2/catch.hpp>

#include "app/cli/validators.hpp"
#include "tests/unit/cli_test_support.hpp"

using namespace netpen::app;
using namespace netpen::app::cli_test;

TEST_CASE("host-port: takes TCP and UDP ports, ranges, lists and repeats", "[cli]") {
  auto r = parse({"--host-port", "8080,1080", "--host-port=9000-9010", "--host-port", "udp/53,UDP/5000-5010,tcp/22",
                  "x"});
  REQUIRE(r);
  const auto& c = std::get<run_config>(*r);
  REQUIRE(c.host_ports.size() == 6);
  CHECK((c.host_ports[0].first == 8080 && c.host_ports[0].last == 8080 && !c.host_ports[0].udp));
  CHECK((c.host_ports[1].first == 1080 && !c.host_ports[1].udp));
  CHECK((c.host_ports[2].first == 9000 && c.host_ports[2].last == 9010 && !c.host_ports[2].udp));
  CHECK((c.host_ports[3].first == 53 && c.host_ports[3].last == 53 && c.host_ports[3].udp));
  CHECK((c.host_ports[4].first == 5000 && c.host_ports[4].last == 5010 && c.host_ports[4].udp));
  CHECK((c.host_ports[5].first == 22 && !c.host_ports[5].udp));
}

TEST_CASE("host-port: goes with --offline, the policy flags and --root", "[cli]") {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--offline", "--host-port", "8080", "x"},
           {"--deny", "0.0.0.0/0", "--host-port", "8080", "x"},
           {"--root", "--host-port", "udp/5353", "x"},
           {"--host-port", "1-256", "x"}}) {
    auto r = parse(args);
    INFO(args[0] << " " << args[1]);
    REQUIRE(r);
    CHECK_FALSE(std::get<run_config>(*r).host_ports.empty());
  }
}

TEST_CASE("host-port: rejects bad values as usage errors", "[cli]") {
  const std::vector<std::pair<std::vector<std::string>, std::string>> rows{
      {{"--host-port", "0", "x"}, "--host-port: '0' is not a port (1-65535) or port range (FIRST-LAST)"},
      {{"--host-port", "70000", "x"}, "--host-port: '70000' is not a port (1-65535) or port range"},
      {{"--host-port", "65536", "x"}, "--host-port: '65536' is not a port"},
      {{"--host-port", "9010-9000", "x"}, "--host-port: '9010-9000' is an empty port range"},
      {{"--host-port", "80-", "x"}, "--host-port: '80-' is not a port"},
      {{"--host-port", "http", "x"}, "--host-port: 'http' is not a port"},
      {{"--host-port", "-80", "x"}, "--host-port: '-80' is not a port"},
      {{"--host-port", "80,,81", "x"}, "--host-port: empty entry in the port list '80,,81'"},
      {{"--host-port", "sctp/80", "x"}, "--host-port: 'sctp/80': the protocol is not tcp or udp"},
      {{"--host-port", "udp/", "x"}, "--host-port: 'udp/' is not a port"},
      {{"--host-port", "udp/0-5", "x"}, "--host-port: 'udp/0-5' is not a port"},
      {{"--host-port", "1-257", "x"}, "--host-port: 257 ports in all; at most 256 may be opened"},
      {{"--host-port", "1-200", "--host-port", "udp/1-57", "x"}, "--host-port: 257 ports in all"},
  };
  for (const auto& [args, prefix] : rows) {
    INFO(args[1]);
    auto r = parse(args);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.substr(0, prefix.size()) == prefix);
    CHECK(r.error().code == "bad-value");
  }
}

TEST_CASE("parse_port_list reads protocol prefixes", "[cli]") {
  auto ports = cli::parse_port_list("--host-port", "udp/5000-5010, 80");
  REQUIRE(ports);
  REQUIRE(ports->size() == 2);
  CHECK(ports->at(0).udp);
  CHECK(ports->at(0).first == 5000);
  CHECK(ports->at(0).last == 5010);
  CHECK_FALSE(ports->at(1).udp);
}
