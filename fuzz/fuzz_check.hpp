// Shared by the libFuzzer targets: a claim found must hold only normalised
// names (a violation aborts, so libFuzzer records the input as a crash).
#pragma once
#include <cstdlib>
#include <string_view>

#include "net/sniff/claim.hpp"

namespace netpen_fuzz {

inline bool clean_name(std::string_view s) {
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.')) return false;
  return s.empty() || (s.front() != '.' && s.back() != '.');
}

inline bool visible(std::string_view s) {
  for (char c : s)
    if (c <= 0x20 || c >= 0x7f) return false;
  return true;
}

inline void check(const netpen::sniff::claim& c) {
  bool ok = clean_name(c.sni) && clean_name(c.http_host) && visible(c.http_path) &&
            c.http_path.find('?') == std::string_view::npos && visible(c.http_method);
  for (const auto& a : c.alpn) ok = ok && visible(a);
  if (!ok) std::abort();
}

}  // namespace netpen_fuzz
