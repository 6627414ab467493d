// Shared helpers for the net/proxy codec tests: byte vectors from hex-style
// lists and strings, and targets for the scripted exchanges.
#pragma once
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "net/proxy/connect_target.hpp"

namespace proxy_test {

using bytes = std::vector<std::byte>;

inline bytes wire(std::initializer_list<int> v) {
  bytes out;
  for (int b : v) out.push_back(static_cast<std::byte>(b));
  return out;
}

inline bytes text(std::string_view s) {
  bytes out;
  for (char c : s) out.push_back(static_cast<std::byte>(c));
  return out;
}

inline bytes concat(bytes a, const bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

inline bytes to_bytes(std::span<const std::byte> s) { return bytes(s.begin(), s.end()); }

inline std::string to_string(std::span<const std::byte> s) {
  std::string out;
  for (std::byte b : s) out += static_cast<char>(b);
  return out;
}

inline netpen::proxy::connect_target v4_target(int a, int b, int c, int d, std::uint16_t port) {
  netpen::proxy::connect_target t;
  t.address = {static_cast<std::uint8_t>(a), static_cast<std::uint8_t>(b), static_cast<std::uint8_t>(c),
               static_cast<std::uint8_t>(d)};
  t.port = port;
  return t;
}

// 2001:db8::1
inline netpen::proxy::connect_target v6_target(std::uint16_t port) {
  netpen::proxy::connect_target t;
  t.address = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  t.v6 = true;
  t.port = port;
  return t;
}

inline netpen::proxy::connect_target name_target(std::string name, std::uint16_t port) {
  netpen::proxy::connect_target t = v4_target(203, 0, 113, 10, port);
  t.name = std::move(name);
  return t;
}

}  // namespace proxy_test
