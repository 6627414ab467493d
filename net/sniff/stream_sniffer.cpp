// The incremental TCP sniffer (see stream_sniffer.hpp): buffers the
// client's first bytes up to max_bytes and asks the TLS or the HTTP reader
// after every feed whether the answer is known.
#include "net/sniff/stream_sniffer.hpp"

#include <algorithm>
#include <string_view>

#include "net/sniff/tls_client_hello.hpp"

namespace netpen::sniff {
namespace {

constexpr std::byte tls_handshake_record{22};

}  // namespace

stream_sniffer::state stream_sniffer::feed(std::span<const std::byte> more) {
  if (state_ == state::done || more.empty()) return state_;
  const std::size_t take = std::min(more.size(), max_bytes - buffered_.size());
  buffered_.insert(buffered_.end(), more.begin(), more.begin() + static_cast<std::ptrdiff_t>(take));
  decide();
  if (state_ != state::done && buffered_.size() >= max_bytes) finish();
  return state_;
}

void stream_sniffer::decide() {
  if (buffered_.front() == tls_handshake_record)
    decide_tls();
  else
    decide_http();
}

void stream_sniffer::decide_tls() {
  switch (tls_.advance(buffered_)) {
    case tls_handshake_reader::status::need_more: return;
    case tls_handshake_reader::status::invalid: return finish();
    case tls_handshake_reader::status::complete: break;
  }
  if (auto hello = parse_client_hello(tls_.message(), claim_protocol::tls)) claim_ = std::move(*hello);
  finish();
}

void stream_sniffer::decide_http() {
  const std::string_view text(reinterpret_cast<const char*>(buffered_.data()), buffered_.size());
  switch (http_.advance(text)) {
    case http_head_scanner::status::need_more: return;
    case http_head_scanner::status::not_http: return finish();
    case http_head_scanner::status::complete: break;
  }
  if (auto head = parse_request_head(text.substr(0, http_.head_size()))) claim_ = std::move(*head);
  finish();
}

void stream_sniffer::finish() {
  state_ = state::done;
  buffered_.clear();
  buffered_.shrink_to_fit();
  tls_ = tls_handshake_reader{max_bytes};
}

}  // namespace netpen::sniff
