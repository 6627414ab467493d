// libFuzzer target: the incremental TCP sniffer (net/sniff/stream_sniffer).
// The first input byte seeds the chunk sizes, the rest is the stream; the
// same stream fed whole must give the same claim.
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz/fuzz_check.hpp"
#include "net/sniff/stream_sniffer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  unsigned chunk_seed = data[0];
  const auto stream = std::as_bytes(std::span(data + 1, size - 1));
  netpen::sniff::stream_sniffer chunked, whole;
  for (std::size_t at = 0; at < stream.size() && chunked.current() == netpen::sniff::stream_sniffer::state::need_more;) {
    chunk_seed = chunk_seed * 1103515245u + 12345u;
    const std::size_t n = std::min<std::size_t>(stream.size() - at, 1 + (chunk_seed >> 16) % 97);
    chunked.feed(stream.subspan(at, n));
    at += n;
  }
  whole.feed(stream);
  netpen_fuzz::check(chunked.result());
  if (whole.current() != chunked.current() || whole.result().protocol != chunked.result().protocol ||
      whole.result().name() != chunked.result().name())
    std::abort();
  return 0;
}
