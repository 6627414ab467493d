// Helpers for the rtnetlink tests: a request buffer and a message's (or a
// nested attribute's) attributes collected by type with libmnl.
#pragma once
#include <catch2/catch.hpp>

#include <libmnl/libmnl.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace rtnetlink_test {

using attrs = std::map<std::uint16_t, std::vector<std::uint8_t>>;

inline int keep(const nlattr* a, void* data) {
  auto* m = static_cast<attrs*>(data);
  const auto* p = static_cast<const std::uint8_t*>(mnl_attr_get_payload(a));
  (*m)[mnl_attr_get_type(a)] = std::vector<std::uint8_t>(p, p + mnl_attr_get_payload_len(a));
  return MNL_CB_OK;
}

// The attributes after a family header of `header_len` bytes.
inline attrs collect(const nlmsghdr* nlh, std::size_t header_len) {
  attrs out;
  REQUIRE(mnl_attr_parse(nlh, static_cast<unsigned>(header_len), keep, &out) >= 0);
  return out;
}

// The attributes in a payload (a nested attribute's bytes, or part of them).
inline attrs collect_payload(const std::uint8_t* p, std::size_t len) {
  attrs out;
  REQUIRE(mnl_attr_parse_payload(p, len, keep, &out) >= 0);
  return out;
}
inline attrs collect_payload(const std::vector<std::uint8_t>& v) { return collect_payload(v.data(), v.size()); }

inline std::uint32_t as_u32(const std::vector<std::uint8_t>& v) {
  std::uint32_t x = 0;
  REQUIRE(v.size() == 4);
  std::memcpy(&x, v.data(), 4);
  return x;
}

// A NUL-terminated string attribute.
inline std::string as_string(const std::vector<std::uint8_t>& v) {
  REQUIRE(!v.empty());
  REQUIRE(v.back() == 0);
  return std::string(v.begin(), v.end() - 1);
}

inline std::vector<char> buffer() { return std::vector<char>(static_cast<std::size_t>(MNL_SOCKET_BUFFER_SIZE)); }

}  // namespace rtnetlink_test
