// libFuzzer target: one ClientHello handshake message (net/sniff/tls_client_hello).
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz/fuzz_check.hpp"
#include "net/sniff/tls_client_hello.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto in = std::as_bytes(std::span(data, size));
  if (auto c = netpen::sniff::parse_client_hello(in)) netpen_fuzz::check(*c);
  return 0;
}
