// HTTP/1.x request-head recognition (see http_request_head.hpp): the
// request line is checked as soon as its bytes arrive, the head is complete
// at CRLFCRLF, then its request line and header fields are parsed.
#include "net/sniff/http_request_head.hpp"

#include <algorithm>
#include <string>

#include "net/sniff/host_name.hpp"

namespace netpen::sniff {
namespace {

constexpr std::size_t max_method = 20;

bool is_method_char(char c) { return (c >= 'A' && c <= 'Z') || c == '-' || c == '_'; }
bool is_visible(char c) { return c > 0x20 && c < 0x7f; }
bool is_tchar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

bool starts_with_icase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// "host[:port]" or "[v6]:port" (userinfo already removed) -> the host name.
std::optional<std::string> host_of_authority(std::string_view authority) {
  if (authority.empty()) return std::string();
  if (authority.front() == '[') {
    if (authority.find(']') == std::string_view::npos) return std::nullopt;
    return std::string();  // an IPv6 literal names no host
  }
  if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    const auto port = authority.substr(colon + 1);
    if (!std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
    authority = authority.substr(0, colon);
  }
  return normalize_host_name(authority);
}

std::string_view without_query(std::string_view target) {
  return target.substr(0, std::min(target.find('?'), target.find('#')));
}

struct request_line {
  std::string_view method, target, version;
};

std::optional<request_line> split_request_line(std::string_view line) {
  const auto sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return std::nullopt;
  const auto sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) return std::nullopt;
  request_line r{line.substr(0, sp1), line.substr(sp1 + 1, sp2 - sp1 - 1), line.substr(sp2 + 1)};
  if (r.method.empty() || r.method.size() > max_method || !std::all_of(r.method.begin(), r.method.end(), is_method_char))
    return std::nullopt;
  if (r.target.empty() || !std::all_of(r.target.begin(), r.target.end(), is_visible)) return std::nullopt;
  if (r.version.size() != 8 || !r.version.starts_with("HTTP/1.") || r.version[7] < '0' || r.version[7] > '9')
    return std::nullopt;
  return r;
}

// Fills method, path and (absolute- or authority-form) host from the line.
// Returns false when malformed; sets `host_from_target` when the target
// names the host.
bool read_request_line(std::string_view line, claim& out, bool& host_from_target) {
  auto r = split_request_line(line);
  if (!r) return false;
  out.http_method = std::string(r->method);
  host_from_target = false;
  if (r->target.front() == '/' || r->target == "*") {
    out.http_path = std::string(without_query(r->target));
    return true;
  }
  std::string_view authority = r->target, path;
  if (starts_with_icase(r->target, "http://") || starts_with_icase(r->target, "https://")) {
    const auto rest = r->target.substr(r->target.find("//") + 2);
    const auto end = std::min({rest.find('/'), rest.find('?'), rest.find('#'), rest.size()});
    authority = rest.substr(0, end);
    path = without_query(rest.substr(end));
    if (auto at = authority.rfind('@'); at != std::string_view::npos) authority = authority.substr(at + 1);
    out.http_path = path.empty() ? "/" : std::string(path);
  } else if (r->method != "CONNECT") {
    return false;
  }
  auto host = host_of_authority(authority);
  if (!host) return false;
  out.http_host = *host;
  host_from_target = true;
  return true;
}

// One header field line; only Host matters. False when malformed.
bool read_header_line(std::string_view line, bool& seen_host, std::optional<std::string>& host) {
  const auto colon = line.find(':');
  if (colon == 0 || colon == std::string_view::npos) return false;
  const auto name = line.substr(0, colon);
  if (!std::all_of(name.begin(), name.end(), is_tchar)) return false;  // also rejects obs-fold and "Host :"
  if (!iequals(name, "host")) return true;
  if (seen_host) return false;
  seen_host = true;
  auto value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  host = host_of_authority(value);
  return host.has_value();
}

}  // namespace

bool could_start_request_line(std::string_view prefix) {
  std::size_t i = 0;
  while (i < prefix.size() && is_method_char(prefix[i])) ++i;
  if (i > max_method) return false;
  if (i == prefix.size()) return true;  // still inside the method
  if (i == 0 || prefix[i] != ' ') return false;
  if (i + 1 == prefix.size()) return true;
  const char t = prefix[i + 1];
  return t == '/' || t == '*' || is_visible(t);
}

std::optional<claim> parse_request_head(std::string_view head) {
  if (!head.ends_with("\r\n\r\n")) return std::nullopt;
  head.remove_suffix(2);
  auto eol = head.find("\r\n");
  claim out;
  out.protocol = claim_protocol::http;
  bool host_from_target = false, seen_host = false;
  if (!read_request_line(head.substr(0, eol), out, host_from_target)) return std::nullopt;
  std::optional<std::string> header_host;
  for (auto pos = eol + 2; pos < head.size(); pos = eol + 2) {
    eol = head.find("\r\n", pos);
    if (!read_header_line(head.substr(pos, eol - pos), seen_host, header_host)) return std::nullopt;
  }
  if (!host_from_target && header_host) out.http_host = *header_host;
  return out;
}

http_head_scanner::status http_head_scanner::advance(std::string_view buffered) {
  if (!could_start_request_line(buffered.substr(0, max_method + 2))) return status::not_http;
  const std::size_t from = scanned_ >= 3 ? scanned_ - 3 : 0;
  scanned_ = buffered.size();
  if (!request_line_checked_) {
    const auto eol = buffered.find("\r\n", from);
    if (eol == std::string_view::npos) return status::need_more;
    claim unused;
    bool from_target = false;
    if (!read_request_line(buffered.substr(0, eol), unused, from_target)) return status::not_http;
    request_line_checked_ = true;
  }
  const auto end = buffered.find("\r\n\r\n", from);
  if (end == std::string_view::npos) return status::need_more;
  head_size_ = end + 4;
  return status::complete;
}

}  // namespace netpen::sniff
