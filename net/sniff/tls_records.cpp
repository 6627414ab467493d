// TLS record reassembly of the client's first handshake message (see
// tls_records.hpp): whole records are unwrapped as they become complete,
// their payload appended to the handshake buffer, and the message is
// complete once its 24-bit length is covered.
#include "net/sniff/tls_records.hpp"

#include <cstdint>

namespace netpen::sniff {
namespace {

constexpr std::uint8_t content_handshake = 22;
constexpr std::size_t record_header = 5;

unsigned at(std::span<const std::byte> b, std::size_t i) { return std::to_integer<unsigned>(b[i]); }

}  // namespace

tls_handshake_reader::status tls_handshake_reader::check_partial_header(std::span<const std::byte> rest) const {
  if (rest.size() >= 1 && at(rest, 0) != content_handshake) return status::invalid;
  if (rest.size() >= 2 && at(rest, 1) != 3) return status::invalid;
  return status::need_more;
}

tls_handshake_reader::status tls_handshake_reader::check_message() {
  if (handshake_.empty()) return status::need_more;
  if (std::to_integer<unsigned>(handshake_[0]) != 1) return status::invalid;  // not a ClientHello
  if (handshake_.size() < 4) return status::need_more;
  const std::size_t length = std::size_t{at(handshake_, 1)} << 16 | std::size_t{at(handshake_, 2)} << 8 |
                             at(handshake_, 3);
  if (length + 4 > max_message_) return status::invalid;
  if (handshake_.size() < length + 4) return status::need_more;
  message_size_ = length + 4;
  return status::complete;
}

tls_handshake_reader::status tls_handshake_reader::advance(std::span<const std::byte> stream) {
  while (status_ == status::need_more) {
    if (next_record_ > stream.size()) return status_ = status::invalid;
    const auto rest = stream.subspan(next_record_);
    if (rest.size() < record_header) return status_ = check_partial_header(rest);
    if (check_partial_header(rest) == status::invalid) return status_ = status::invalid;
    const std::size_t length = std::size_t{at(rest, 3)} << 8 | at(rest, 4);
    if (length == 0 || length > max_record_length) return status_ = status::invalid;
    if (rest.size() < record_header + length) return status_;
    const auto payload = rest.subspan(record_header, length);
    if (handshake_.size() + payload.size() > max_message_ + max_record_length) return status_ = status::invalid;
    handshake_.insert(handshake_.end(), payload.begin(), payload.end());
    next_record_ += record_header + length;
    status_ = check_message();
  }
  return status_;
}

}  // namespace netpen::sniff
