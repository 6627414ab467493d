// Sniffs the first bytes a TCP client sends, incrementally: a TLS
// ClientHello (its records may be split across segments, and the
// ClientHello across records) or an HTTP/1.x request head. Sans-I/O: the
// caller feeds the client's in-order bytes as they arrive and stops once
// the state is `done`; the sniffer never sees the server's bytes.
//
// done comes as soon as the answer is known: the ClientHello or the
// request head is complete, the bytes cannot be either (the first byte is
// not a TLS handshake record and the line is not an HTTP method), or
// max_bytes have been seen without an answer. A malformed ClientHello or
// head is `done` with protocol none: the flow is judged by its address.
//
// Inside: the first byte picks the path (0x16: TLS records, see
// tls_records.hpp and tls_client_hello.hpp; otherwise an HTTP request head,
// see http_request_head.hpp). Both look only at the bytes new since the
// last feed, so feeding byte by byte stays linear.
#pragma once
#include <cstddef>
#include <span>
#include <vector>

#include "net/sniff/claim.hpp"
#include "net/sniff/http_request_head.hpp"
#include "net/sniff/tls_records.hpp"

namespace netpen::sniff {

class stream_sniffer {
 public:
  enum class state { need_more, done };
  // What is looked at at most; past it the sniffer gives up (done).
  static constexpr std::size_t max_bytes = 16 * 1024;

  // Appends the next in-order bytes the client sent (after done: ignored).
  state feed(std::span<const std::byte> more);
  state current() const { return state_; }
  // The claim once done (protocol none when nothing was recognised).
  const claim& result() const { return claim_; }

 private:
  void decide();
  void decide_tls();
  void decide_http();
  void finish();

  state state_ = state::need_more;
  std::vector<std::byte> buffered_;
  tls_handshake_reader tls_{max_bytes};
  http_head_scanner http_;
  claim claim_;
};

}  // namespace netpen::sniff
