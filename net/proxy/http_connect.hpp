// Owns the HTTP/1.1 CONNECT client codec for upstream HTTP proxies, sans-I/O:
// building the request (with optional Basic proxy authentication) and an
// incremental, bounded parser for the proxy's response header block. The
// caller moves the bytes; nothing here reads sockets, throws on bad input, or
// reads outside the given buffers.
#pragma once
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "net/proxy/connect_target.hpp"
#include "net/proxy/credentials.hpp"

namespace netpen::proxy {

inline constexpr std::size_t max_connect_response_header = 16384;
inline constexpr std::size_t max_reason_phrase = 100;

// Why the request for `target`/`creds` should not be sent, or nullopt: a name
// that is present but not a valid host name (see target_problem), or a user
// name containing ':' or control characters (RFC 7617 forbids them).
std::optional<std::string> validate_connect_request(const connect_target& target,
                                                    const std::optional<credentials>& creds);

// "CONNECT host:port HTTP/1.1\r\nHost: host:port\r\n"
// ["Proxy-Authorization: Basic <base64 user:password>\r\n"] "\r\n".
// host is host_for_request(target), so even an unvalidated target cannot
// inject header syntax (an invalid name falls back to the address).
std::string build_connect_request(const connect_target& target, const std::optional<credentials>& creds);

// Parses the response to a CONNECT. Accepts HTTP/1.0 and HTTP/1.1, CRLF or
// bare LF line endings, ignores header fields, skips 1xx interim responses,
// and stops at the end of the final header block: the bytes after it are the
// tunnel's (leftover()). The whole header block, interim responses included,
// may be at most max_connect_response_header bytes. Fails at once on input
// that does not start with "HTTP/" and on NUL bytes in the header block.
// After done or failed, feed() ignores its input and returns the same status.
class connect_response_parser {
 public:
  enum class status { need_more, done, failed };

  status feed(std::span<const std::byte> data);  // call repeatedly with newly read bytes
  status current() const { return status_; }

  int code() const { return code_; }                      // valid after done
  std::string_view reason() const { return reason_; }     // sanitized: printable ASCII, <= 100 chars
  bool success() const { return status_ == status::done && code_ >= 200 && code_ <= 299; }
  std::span<const std::byte> leftover() const;            // tunnel data, valid after done
  const std::string& error() const { return error_; }     // why, when failed

  // done, 2xx:     "proxy answered 200 Connection established"
  // done, other:   "proxy answered 407 Proxy Authentication Required (check --proxy-user/--proxy-password)"
  // failed:        "bad proxy response: <error>"
  // need_more:     "proxy closed the connection before completing its response" (for EOF now)
  std::string describe() const;

 private:
  status fail(std::string why);
  bool parse_status_line(std::string_view line);
  bool check_prefix() const;

  std::vector<std::byte> buf_;
  std::size_t line_start_ = 0;  // first byte of the line being read
  std::size_t scanned_ = 0;     // bytes of that line already searched for '\n'
  std::size_t body_start_ = 0;  // first leftover byte, when done
  bool in_headers_ = false;     // false: expecting a status line
  int code_ = 0;
  std::string reason_;
  std::string error_;
  status status_ = status::need_more;
};

}  // namespace netpen::proxy
