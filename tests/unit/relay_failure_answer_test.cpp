// Unit tests for what the child is told when a host connect or send fails
// (relay/failure_answer.hpp): the errno -> ICMP error or TCP reset choice.
#include <catch2/catch.hpp>
#include <cerrno>
#include <string>

#include "net/packet/icmp.hpp"
#include "net/relay/failure_answer.hpp"
#include "tests/unit/address_test_util.hpp"

using netpen::relay::icmp_for_failed_connect;
using netpen::relay::icmp_report;
using netpen::relay::icmp_report_for_errno;
namespace icmp4 = netpen::packet::icmp4;
namespace icmp6 = netpen::packet::icmp6;

using netpen_test::ip;

TEST_CASE("failure answer: unreachable errnos stand for the ICMP error the host would have got", "[relay]") {
  const auto dst4 = ip("203.0.113.10");
  const auto dst6 = ip("2001:db8:2::10");
  auto r = icmp_report_for_errno(EHOSTUNREACH, dst4);
  REQUIRE(r);
  CHECK(r->type == icmp4::dest_unreachable);
  CHECK(r->code == icmp4::host_unreachable);
  CHECK(r->offender == dst4);
  r = icmp_report_for_errno(ENETUNREACH, dst6);
  REQUIRE(r);
  CHECK(r->type == icmp6::dest_unreachable);
  CHECK(r->code == icmp6::no_route);
  CHECK(r->offender == dst6);
  r = icmp_report_for_errno(ECONNREFUSED, dst4);  // a UDP peer's port unreachable
  REQUIRE(r);
  CHECK(r->code == icmp4::port_unreachable);
  CHECK_FALSE(icmp_report_for_errno(ETIMEDOUT, dst4));
  CHECK_FALSE(icmp_report_for_errno(ECANCELED, dst6));
  CHECK_FALSE(icmp_report_for_errno(0, dst4));
}

TEST_CASE("failure answer: a refused or timed-out TCP connect is a reset", "[relay]") {
  const auto dst = ip("203.0.113.10");
  CHECK_FALSE(icmp_for_failed_connect(ECONNREFUSED, std::nullopt, dst));
  CHECK_FALSE(icmp_for_failed_connect(ETIMEDOUT, std::nullopt, dst));
  CHECK_FALSE(icmp_for_failed_connect(ECANCELED, std::nullopt, dst));  // our connect timeout
  CHECK_FALSE(icmp_for_failed_connect(ECONNRESET, std::nullopt, dst));
}

TEST_CASE("failure answer: an unreachable TCP connect is the ICMP error, not a reset", "[relay]") {
  const auto dst = ip("2001:db8:2::10");
  const auto r = icmp_for_failed_connect(EHOSTUNREACH, std::nullopt, dst);
  REQUIRE(r);
  CHECK(r->type == icmp6::dest_unreachable);
  CHECK(r->code == icmp6::address_unreachable);
}

TEST_CASE("failure answer: the error the kernel queued for the connect wins", "[relay]") {
  const auto dst = ip("203.0.113.10");
  icmp_report hop;  // a router's Time Exceeded for traceroute -T
  hop.type = icmp4::time_exceeded;
  hop.code = 0;
  hop.offender = ip("198.51.100.1");
  for (int err : {EHOSTUNREACH, ECONNREFUSED, ETIMEDOUT}) {
    INFO(err);
    const auto r = icmp_for_failed_connect(err, hop, dst);
    REQUIRE(r);
    CHECK(r->type == icmp4::time_exceeded);
    CHECK(r->offender == hop.offender);
  }
}
