// Test helper: a packet::ip_address from its text form ("203.0.113.10",
// "2001:db8::1"); the test fails at once on a bad literal.
#pragma once
#include <arpa/inet.h>

#include <catch2/catch.hpp>
#include <string>

#include "net/packet/frame.hpp"

namespace netpen_test {

inline netpen::packet::ip_address ip(const std::string& text) {
  netpen::packet::ip_address a;
  a.v6 = text.find(':') != std::string::npos;
  REQUIRE(::inet_pton(a.v6 ? AF_INET6 : AF_INET, text.c_str(), a.bytes.data()) == 1);
  return a;
}

}  // namespace netpen_test
