// Recognises an HTTP/1.x request head (RFC 9112) and what it claims: the
// method, the Host (from an absolute-form target, else the Host header;
// without its port, lowercase, no trailing dot; empty for an IP literal)
// and the path (origin-form; the query string and fragment are dropped and
// never kept). Sans-I/O: http_head_scanner finds the end of the head in a
// growing buffer and says "not HTTP" as early as the first bytes allow
// (an SSH banner is rejected at its fifth byte); parse_request_head reads a
// complete head. Methods are what real clients send: uppercase letters,
// '-' and '_', at most 20 of them.
#pragma once
#include <cstddef>
#include <optional>
#include <string_view>

#include "net/sniff/claim.hpp"

namespace netpen::sniff {

class http_head_scanner {
 public:
  enum class status { need_more, complete, not_http };

  // `buffered`: every byte the client sent so far (it only grows).
  status advance(std::string_view buffered);
  // The head's size, its final CRLFCRLF included, once complete.
  std::size_t head_size() const { return head_size_; }

 private:
  std::size_t scanned_ = 0;  // bytes already searched for line ends
  bool request_line_checked_ = false;
  std::size_t head_size_ = 0;
};

// True while `prefix` (the first bytes) can still begin a request line.
bool could_start_request_line(std::string_view prefix);

// `head`: the request head through its CRLFCRLF. protocol http; nullopt
// when malformed (bad request line, header line, two Host headers, a Host
// that is not a host name).
std::optional<claim> parse_request_head(std::string_view head);

}  // namespace netpen::sniff
