// Unit tests for backends/common/sysctl: the name forms, reads of real
// sysctls, and writes in a private network namespace (its net.* sysctls are
// its own, so the host's are never touched).
#include <catch2/catch.hpp>

#include <string>

#include "backends/common/sysctl.hpp"
#include "tests/unit/private_netns.hpp"

using namespace netpen::backends;

TEST_CASE("a sysctl's path names its file under /proc/sys and its sysctl(8) name", "[sysctl]") {
  CHECK(sysctl_file("net/ipv4/ip_forward") == "/proc/sys/net/ipv4/ip_forward");
  CHECK(sysctl_file("net/ipv4/conf/eth0.100/forwarding") == "/proc/sys/net/ipv4/conf/eth0.100/forwarding");
  CHECK(sysctl_name("net/ipv4/ip_forward") == "net.ipv4.ip_forward");
  CHECK(sysctl_name("net/ipv4/conf/eth0.100/forwarding") == "net.ipv4.conf.eth0/100.forwarding");
}

TEST_CASE("real sysctls read as text and as numbers", "[sysctl]") {
  REQUIRE(sysctl_exists("net/ipv4/ip_forward"));
  const auto text = read_sysctl("net/ipv4/ip_forward");
  REQUIRE(text);
  CHECK((*text == "0" || *text == "1"));  // one line, its newline gone
  const auto number = read_sysctl_int("net/ipv4/ip_forward");
  REQUIRE(number);
  CHECK(std::to_string(*number) == *text);

  // A range reads as its first number.
  const auto range = read_sysctl("net/ipv4/ping_group_range");
  REQUIRE(range);
  const auto low = read_sysctl_int("net/ipv4/ping_group_range");
  REQUIRE(low);
  CHECK(range->starts_with(std::to_string(*low)));
}

TEST_CASE("a sysctl this kernel lacks is an error naming its file", "[sysctl]") {
  const std::string missing = "net/ipv4/netpen_no_such_sysctl";
  CHECK_FALSE(sysctl_exists(missing));
  const auto text = read_sysctl(missing);
  REQUIRE_FALSE(text);
  CHECK(text.error().code == "sysctl");
  CHECK(text.error().message.find("/proc/sys/net/ipv4/netpen_no_such_sysctl") != std::string::npos);
  CHECK_FALSE(read_sysctl_int(missing));
  const auto set = write_sysctl(missing, "1");
  REQUIRE_FALSE(set);
  CHECK(set.error().code == "sysctl");
  CHECK(write_sysctl(missing, "1", sysctl_missing::ignore));  // gone with its interface: nothing to do
}

TEST_CASE("a written sysctl reads back, in a private namespace", "[sysctl]") {
  netns_test::check_in_private_netns([]() -> std::string {
    const std::string path = "net/ipv4/ping_group_range";
    netns_test::expect_ok(write_sysctl(path, "0 0"), "setting the range");
    const auto text = netns_test::expect_ok(read_sysctl(path), "reading it back");
    netns_test::expect(text == "0\t0", "the range reads back as '" + text + "'");
    netns_test::expect_ok(write_sysctl(path, "1 0"), "setting it back");
    netns_test::expect(read_sysctl_int(path) == 1, "the range's first number is not 1");
    return "";
  });
}
