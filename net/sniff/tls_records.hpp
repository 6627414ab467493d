// Reassembles the first handshake message a TLS client sends from its
// records (RFC 8446 section 5.1): the bytes arrive in arbitrary chunks, a
// record may be split across them, and the ClientHello may be split across
// several handshake records (content type 22). Sans-I/O and incremental:
// the caller keeps the whole byte stream and calls advance() after each
// append; only the records not yet seen are looked at.
#pragma once
#include <cstddef>
#include <span>
#include <vector>

namespace netpen::sniff {

class tls_handshake_reader {
 public:
  enum class status { need_more, complete, invalid };
  static constexpr std::size_t max_record_length = 16384 + 256;

  // `max_message` bounds the handshake message (header included): a
  // longer one is invalid.
  explicit tls_handshake_reader(std::size_t max_message) : max_message_(max_message) {}

  // `stream`: every byte the client sent so far (a prefix of it was given
  // before). Anything that is not a handshake record, a record header
  // that is not TLS, or a first message that is not a ClientHello is
  // invalid.
  status advance(std::span<const std::byte> stream);
  // The complete handshake message (header included) once complete.
  std::span<const std::byte> message() const { return std::span<const std::byte>(handshake_).first(message_size_); }

 private:
  status check_partial_header(std::span<const std::byte> rest) const;
  status check_message();

  std::size_t max_message_;
  std::size_t next_record_ = 0;  // offset in the stream of the next record header
  std::vector<std::byte> handshake_;
  std::size_t message_size_ = 0;
  status status_ = status::need_more;
};

}  // namespace netpen::sniff
