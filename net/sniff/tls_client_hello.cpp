// ClientHello parsing (see tls_client_hello.hpp): the fixed fields are
// walked past with bounds checks, then each extension is handed to the
// reader of the ones that matter (server_name, ALPN, ECH).
#include "net/sniff/tls_client_hello.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "net/sniff/byte_reader.hpp"
#include "net/sniff/host_name.hpp"

namespace netpen::sniff {
namespace {

std::string to_text(std::span<const std::byte> b) {
  std::string s(b.size(), '\0');
  std::transform(b.begin(), b.end(), s.begin(), [](std::byte x) { return static_cast<char>(x); });
  return s;
}

// server_name: a list of (type, name); the host_name (type 0) is kept.
bool read_server_name(std::span<const std::byte> data, claim& out) {
  byte_reader r(data);
  auto list = r.prefixed(2);
  if (!list || !r.at_end() || list->empty()) return false;
  byte_reader entries(*list);
  bool seen_host = false;
  while (entries.remaining() > 0) {
    auto type = entries.u8();
    auto name = entries.prefixed(2);
    if (!type || !name) return false;
    if (*type != 0) continue;
    if (seen_host) return false;  // RFC 6066: one name per type
    seen_host = true;
    auto host = normalize_host_name(to_text(*name));
    if (!host) return false;
    out.sni = *host;
  }
  return true;
}

bool is_printable(std::span<const std::byte> b) {
  return std::all_of(b.begin(), b.end(), [](std::byte x) {
    const auto c = std::to_integer<unsigned>(x);
    return c > 0x20 && c < 0x7f;
  });
}

bool read_alpn(std::span<const std::byte> data, claim& out) {
  byte_reader r(data);
  auto list = r.prefixed(2);
  if (!list || !r.at_end() || list->empty()) return false;
  byte_reader names(*list);
  while (names.remaining() > 0) {
    auto name = names.prefixed(1);
    if (!name || name->empty()) return false;
    const bool grease = name->size() == 2 &&
                        is_grease(static_cast<std::uint16_t>(std::to_integer<unsigned>((*name)[0]) << 8 |
                                                             std::to_integer<unsigned>((*name)[1])));
    if (!grease && is_printable(*name)) out.alpn.push_back(to_text(*name));
  }
  return true;
}

bool read_extension(std::uint16_t type, std::span<const std::byte> data, claim& out) {
  switch (type) {
    case tls_ext_server_name: return read_server_name(data, out);
    case tls_ext_alpn: return read_alpn(data, out);
    case tls_ext_encrypted_client_hello: out.ech = true; return true;
    default: return true;
  }
}

bool read_extensions(std::span<const std::byte> block, claim& out) {
  byte_reader r(block);
  std::vector<std::uint16_t> seen;
  while (r.remaining() > 0) {
    auto type = r.u16();
    auto data = r.prefixed(2);
    if (!type || !data) return false;
    if (std::find(seen.begin(), seen.end(), *type) != seen.end()) return false;  // duplicates are illegal
    seen.push_back(*type);
    if (!read_extension(*type, *data, out)) return false;
  }
  return true;
}

// The body after the handshake header, up to the extensions block.
bool read_fixed_fields(byte_reader& r) {
  auto version = r.u16();
  if (!version || (*version >> 8) != 3) return false;
  if (!r.skip(32)) return false;  // random
  auto session_id = r.prefixed(1);
  if (!session_id || session_id->size() > 32) return false;
  auto suites = r.prefixed(2);
  if (!suites || suites->empty() || suites->size() % 2 != 0) return false;
  auto compression = r.prefixed(1);
  return compression && !compression->empty();
}

}  // namespace

std::optional<claim> parse_client_hello(std::span<const std::byte> message, claim_protocol protocol) {
  byte_reader header(message);
  auto type = header.u8();
  auto length = header.u24();
  if (!type || !length || *type != tls_handshake_client_hello) return std::nullopt;
  auto body = header.bytes(*length);
  if (!body) return std::nullopt;
  byte_reader r(*body);
  if (!read_fixed_fields(r)) return std::nullopt;
  claim out;
  out.protocol = protocol;
  if (r.at_end()) return out;  // no extensions (old clients): no name
  auto extensions = r.prefixed(2);
  if (!extensions || !r.at_end() || !read_extensions(*extensions, out)) return std::nullopt;
  return out;
}

}  // namespace netpen::sniff
