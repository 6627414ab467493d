// The QUIC Initial sniffer (see quic_sniffer.hpp): each datagram's
// coalesced long-header packets are walked, the Initials opened and their
// CRYPTO frames collected until the ClientHello is whole.
#include "net/sniff/quic_sniffer.hpp"

#include "net/sniff/tls_client_hello.hpp"

namespace netpen::sniff {

quic_sniffer::state quic_sniffer::feed(std::span<const std::byte> datagram) {
  if (state_ == state::done) return state_;
  ++datagrams_;
  read_packets(datagram);
  if (state_ == state::done) return state_;
  if (!keys_) {
    finish();  // the first datagram held no Initial we can read
    return state_;
  }
  read_client_hello();
  if (datagrams_ >= max_datagrams) finish();
  return state_;
}

void quic_sniffer::read_packets(std::span<const std::byte> datagram) {
  while (!datagram.empty()) {
    const auto header = read_long_header(datagram);
    if (!header) return;  // a short header, a Retry, trailing bytes: nothing more to read
    if (header->initial) {
      if (!keys_) {
        keys_ = client_initial_keys(header->version, header->dcid);
        version_ = header->version;
      }
      if (header->version != version_) return finish();
      const auto plain = open_initial(datagram.first(header->size), *header, *keys_);
      if (!plain || !read_crypto_frames(*plain, crypto_)) return finish();
    }
    datagram = datagram.subspan(header->size);
  }
}

void quic_sniffer::read_client_hello() {
  const auto stream = crypto_.contiguous();
  if (stream.empty()) return;
  if (std::to_integer<unsigned>(stream[0]) != 1) return finish();  // not a ClientHello
  if (stream.size() < 4) return;
  const std::size_t length = std::to_integer<std::size_t>(stream[1]) << 16 | std::to_integer<std::size_t>(stream[2]) << 8 |
                             std::to_integer<std::size_t>(stream[3]);
  if (length + 4 > quic_crypto_stream::max_size) return finish();
  if (stream.size() < length + 4) return;
  if (auto hello = parse_client_hello(stream, claim_protocol::quic)) claim_ = std::move(*hello);
  finish();
}

}  // namespace netpen::sniff
