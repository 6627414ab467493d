// Text forms of a connect_target: name validation, the host part of a
// request, and RFC 5952 address formatting (no inet_ntop, no asio).
#include "net/proxy/connect_target.hpp"

#include <cstddef>

namespace netpen::proxy {

namespace {

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.';
}

void append_v4(std::string& out, const std::uint8_t* b) {
  for (std::size_t i = 0; i < 4; ++i) {
    if (i) out += '.';
    out += std::to_string(b[i]);
  }
}

void append_hex16(std::string& out, unsigned v) {
  constexpr std::string_view digits = "0123456789abcdef";
  bool started = false;
  for (int shift = 12; shift >= 0; shift -= 4) {
    const unsigned nibble = (v >> static_cast<unsigned>(shift)) & 0xfu;
    if (nibble || started || shift == 0) {
      out += digits[nibble];
      started = true;
    }
  }
}

std::string v6_text(const std::array<std::uint8_t, 16>& a) {
  unsigned groups[8];
  for (std::size_t i = 0; i < 8; ++i) groups[i] = (unsigned{a[2 * i]} << 8) | a[2 * i + 1];

  std::string out;
  // IPv4-mapped (::ffff:a.b.c.d), RFC 5952 section 5.
  if (!groups[0] && !groups[1] && !groups[2] && !groups[3] && !groups[4] && groups[5] == 0xffff) {
    out = "::ffff:";
    append_v4(out, a.data() + 12);
    return out;
  }
  // Longest run of two or more zero groups; the first one on a tie.
  std::size_t best = 8, best_len = 0;
  for (std::size_t i = 0; i < 8;) {
    if (groups[i]) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < 8 && !groups[j]) ++j;
    if (j - i > best_len) {
      best = i;
      best_len = j - i;
    }
    i = j;
  }
  if (best_len < 2) best = 8;

  for (std::size_t i = 0; i < 8;) {
    if (i == best) {
      out += "::";
      i += best_len;
      continue;
    }
    if (i && i != best + best_len) out += ':';
    append_hex16(out, groups[i]);
    ++i;
  }
  return out;
}

}  // namespace

bool valid_target_name(std::string_view name) {
  if (name.empty() || name.size() > max_target_name) return false;
  for (char c : name)
    if (!name_char(c)) return false;
  return true;
}

std::optional<std::string> target_problem(const connect_target& t) {
  if (!t.name) return std::nullopt;
  if (t.name->empty()) return "destination name is empty";
  if (t.name->size() > max_target_name)
    return "destination name is longer than 255 bytes (" + std::to_string(t.name->size()) + ")";
  if (!valid_target_name(*t.name)) return "destination name contains characters a host name cannot have";
  return std::nullopt;
}

std::string host_for_request(const connect_target& t) {
  if (t.name && valid_target_name(*t.name)) return *t.name;
  if (t.v6) return "[" + v6_text(t.address) + "]";
  return address_text(t);
}

std::string address_text(const connect_target& t) {
  if (t.v6) return v6_text(t.address);
  std::string out;
  append_v4(out, t.address.data());
  return out;
}

}  // namespace netpen::proxy
