// libFuzzer target: the QUIC Initial sniffer (net/sniff/quic_sniffer,
// quic_initial). First byte even: the rest is CRYPTO/other frames, sealed
// into a valid Initial by the test builder (reaches the frame and
// ClientHello parsers past the AEAD). Odd: the rest is up to four raw
// datagrams, each behind a 2-byte length.
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz/fuzz_check.hpp"
#include "net/sniff/quic_sniffer.hpp"
#include "tests/unit/quic_initial_builder.hpp"

namespace {

void sealed_frames(std::span<const std::byte> frames) {
  quic_test::initial_spec spec;
  spec.pad_to = 0;  // no 1200-byte padding: more inputs per second
  netpen::sniff::quic_sniffer s;
  s.feed(quic_test::initial_packet(quic_test::bytes(frames.begin(), frames.end()), spec));
  netpen_fuzz::check(s.result());
}

void raw_datagrams(std::span<const std::byte> in) {
  netpen::sniff::quic_sniffer s;
  while (in.size() >= 2 && s.current() == netpen::sniff::quic_sniffer::state::need_more) {
    const std::size_t n = std::min<std::size_t>(in.size() - 2, std::to_integer<std::size_t>(in[0]) << 8 | std::to_integer<std::size_t>(in[1]));
    s.feed(in.subspan(2, n));
    in = in.subspan(2 + n);
  }
  netpen_fuzz::check(s.result());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0 || size > 4096) return 0;
  const auto rest = std::as_bytes(std::span(data + 1, size - 1));
  if (data[0] % 2 == 0)
    sealed_frames(rest);
  else
    raw_datagrams(rest);
  return 0;
}
