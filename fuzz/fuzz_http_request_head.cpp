// libFuzzer target: an HTTP/1.x request head (net/sniff/http_request_head):
// the early check, the scanner and the parser on the same bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_check.hpp"
#include "net/sniff/http_request_head.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)netpen::sniff::could_start_request_line(text);
  netpen::sniff::http_head_scanner scanner;
  if (scanner.advance(text) == netpen::sniff::http_head_scanner::status::complete &&
      scanner.head_size() > text.size())
    std::abort();
  if (auto c = netpen::sniff::parse_request_head(text)) netpen_fuzz::check(*c);
  return 0;
}
