// Host-name normalisation for the sniffers (see host_name.hpp).
#include "net/sniff/host_name.hpp"

#include <arpa/inet.h>

#include <netinet/in.h>

namespace netpen::sniff {
namespace {

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

bool is_ip_literal(std::string_view text) {
  if (text.empty() || text.size() > 64) return false;
  const std::string s(text);
  in6_addr v6{};
  in_addr v4{};
  return inet_pton(AF_INET, s.c_str(), &v4) == 1 || inet_pton(AF_INET6, s.c_str(), &v6) == 1;
}

std::optional<std::string> normalize_host_name(std::string_view text) {
  if (!text.empty() && text.back() == '.') text.remove_suffix(1);
  if (text.empty() || text.size() > 253) return std::nullopt;
  if (is_ip_literal(text)) return std::string();
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    c = lower(c);
    if (!is_name_char(c)) return std::nullopt;
    if (c == '.' && (out.empty() || out.back() == '.')) return std::nullopt;
    out.push_back(c);
  }
  if (out.back() == '.') return std::nullopt;  // "name.." : an empty last label
  return out;
}

}  // namespace netpen::sniff
