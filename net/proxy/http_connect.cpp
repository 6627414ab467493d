// HTTP CONNECT request building and the incremental response-header parser.
// The parser keeps every byte it was fed in one buffer, remembers how far it
// has searched for the end of the current line (so byte-by-byte input stays
// linear), and never looks past the end of the buffer.
#include "net/proxy/http_connect.hpp"

#include <algorithm>

#include "net/proxy/base64.hpp"

namespace netpen::proxy {

namespace {

constexpr std::string_view http_prefix = "HTTP/";

bool is_control(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

// Printable ASCII only (tabs become spaces, anything else '?'), trimmed, at
// most max_reason_phrase characters.
std::string sanitize_reason(std::string_view in) {
  std::string out;
  for (char c : in) {
    if (out.size() == max_reason_phrase) break;
    const auto u = static_cast<unsigned char>(c);
    if (c == '\t')
      out += ' ';
    else if (u >= 0x20 && u <= 0x7e)
      out += c;
    else
      out += '?';
  }
  const auto first = out.find_first_not_of(' ');
  if (first == std::string::npos) return {};
  out.erase(0, first);
  out.erase(out.find_last_not_of(' ') + 1);
  return out;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::optional<std::string> validate_connect_request(const connect_target& target,
                                                    const std::optional<credentials>& creds) {
  if (auto problem = target_problem(target)) return problem;
  if (creds) {
    if (creds->user.find(':') != std::string::npos)
      return "proxy user name contains ':', which HTTP Basic authentication cannot carry";
    if (std::any_of(creds->user.begin(), creds->user.end(), is_control) ||
        std::any_of(creds->password.begin(), creds->password.end(), is_control))
      return "proxy user name or password contains control characters";
  }
  return std::nullopt;
}

std::string build_connect_request(const connect_target& target, const std::optional<credentials>& creds) {
  const std::string authority = host_for_request(target) + ":" + std::to_string(target.port);
  std::string out = "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n";
  if (creds) out += "Proxy-Authorization: Basic " + base64_encode(creds->user + ":" + creds->password) + "\r\n";
  out += "\r\n";
  return out;
}

connect_response_parser::status connect_response_parser::fail(std::string why) {
  error_ = std::move(why);
  status_ = status::failed;
  return status_;
}

// The status line read so far must be a prefix of "HTTP/..." (decided as soon
// as the first bytes arrive, so an SSH or SOCKS server fails at once).
bool connect_response_parser::check_prefix() const {
  const std::size_t avail = buf_.size() - line_start_;
  const std::size_t n = std::min(avail, http_prefix.size());
  for (std::size_t i = 0; i < n; ++i)
    if (static_cast<char>(buf_[line_start_ + i]) != http_prefix[i]) return false;
  return true;
}

// "HTTP/1.x" 1*SP 3DIGIT [ (SP / HTAB) reason ]; sets code_ and reason_.
bool connect_response_parser::parse_status_line(std::string_view line) {
  if (line.size() < 8 || line.substr(0, 7) != "HTTP/1." || (line[7] != '0' && line[7] != '1')) {
    fail("unsupported HTTP version in status line");
    return false;
  }
  std::size_t i = 8;
  if (i >= line.size() || line[i] != ' ') {
    fail("malformed status line");
    return false;
  }
  while (i < line.size() && line[i] == ' ') ++i;
  if (line.size() - i < 3 || !is_digit(line[i]) || !is_digit(line[i + 1]) || !is_digit(line[i + 2]) ||
      (line.size() - i > 3 && line[i + 3] != ' ' && line[i + 3] != '\t')) {
    fail("malformed status line");
    return false;
  }
  const int code = (line[i] - '0') * 100 + (line[i + 1] - '0') * 10 + (line[i + 2] - '0');
  if (code < 100) {
    fail("malformed status line");
    return false;
  }
  code_ = code;
  reason_ = line.size() - i > 3 ? sanitize_reason(line.substr(i + 4)) : std::string{};
  return true;
}

connect_response_parser::status connect_response_parser::feed(std::span<const std::byte> data) {
  if (status_ != status::need_more) return status_;
  buf_.insert(buf_.end(), data.begin(), data.end());

  for (;;) {
    if (!in_headers_ && !check_prefix()) return fail("not an HTTP response");

    // Find the end of the current line, rejecting NULs on the way.
    std::size_t nl = line_start_ + scanned_;
    while (nl < buf_.size() && buf_[nl] != std::byte{'\n'}) {
      if (buf_[nl] == std::byte{0}) return fail("NUL byte in response header");
      ++nl;
    }
    if (nl == buf_.size()) {
      scanned_ = buf_.size() - line_start_;
      if (buf_.size() > max_connect_response_header)
        return fail("response header larger than " + std::to_string(max_connect_response_header) + " bytes");
      return status_;
    }
    const std::size_t next = nl + 1;
    if (next > max_connect_response_header)
      return fail("response header larger than " + std::to_string(max_connect_response_header) + " bytes");

    std::string_view line(reinterpret_cast<const char*>(buf_.data()) + line_start_, nl - line_start_);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    line_start_ = next;
    scanned_ = 0;

    if (!in_headers_) {
      if (!parse_status_line(line)) return status_;
      in_headers_ = true;
      continue;
    }
    if (!line.empty()) continue;  // a header field: tolerated, ignored

    if (code_ < 200) {  // interim 1xx: the final response follows
      in_headers_ = false;
      code_ = 0;
      reason_.clear();
      continue;
    }
    body_start_ = next;
    status_ = status::done;
    return status_;
  }
}

std::span<const std::byte> connect_response_parser::leftover() const {
  if (status_ != status::done) return {};
  return std::span<const std::byte>(buf_).subspan(body_start_);
}

std::string connect_response_parser::describe() const {
  switch (status_) {
    case status::failed:
      return "bad proxy response: " + error_;
    case status::need_more:
      return "proxy closed the connection before completing its response";
    case status::done:
      break;
  }
  std::string out = "proxy answered " + std::to_string(code_);
  if (!reason_.empty()) out += " " + reason_;
  if (code_ == 407) out += " (check --proxy-user/--proxy-password)";
  return out;
}

}  // namespace netpen::proxy
