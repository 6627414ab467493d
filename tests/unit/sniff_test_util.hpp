// Test helpers for the sniffer tests: byte/hex/string conversions, real
// ClientHellos written by OpenSSL (the oracle: an SSL client on memory BIOs,
// whose first flight is taken as it would go on the wire), hand-built
// ClientHellos for what OpenSSL never sends (GREASE, ECH, IP literals), and
// re-framing a handshake message into TLS records of chosen sizes.
#pragma once
#include <openssl/bio.h>
#include <openssl/ssl.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sniff_test {

using bytes = std::vector<std::byte>;

inline bytes from_text(std::string_view s) {
  bytes out;
  for (char c : s) out.push_back(static_cast<std::byte>(c));
  return out;
}

inline bytes from_hex(std::string_view hex) {
  bytes out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<std::byte>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

inline std::string to_hex(std::span<const std::byte> b) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (auto x : b) {
    s.push_back(digits[std::to_integer<unsigned>(x) >> 4]);
    s.push_back(digits[std::to_integer<unsigned>(x) & 15]);
  }
  return s;
}

inline void put_u16(bytes& b, std::size_t v) {
  b.push_back(static_cast<std::byte>((v >> 8) & 0xff));
  b.push_back(static_cast<std::byte>(v & 0xff));
}

inline void append(bytes& to, std::span<const std::byte> more) { to.insert(to.end(), more.begin(), more.end()); }

// The TLS records OpenSSL writes as a client's first flight: a ClientHello
// asking for `sni` (none if empty) and offering `alpn`.
inline bytes openssl_client_hello_records(const std::string& sni, const std::vector<std::string>& alpn) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, in, out);
  SSL_set_connect_state(ssl);
  if (!sni.empty())  // SSL_set_tlsext_host_name, without its C cast
    SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(sni.c_str()));
  std::string wire;
  for (const auto& p : alpn) wire += static_cast<char>(p.size()) + p;
  if (!wire.empty())
    SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(wire.data()), static_cast<unsigned>(wire.size()));
  SSL_do_handshake(ssl);  // wants to read the ServerHello: the ClientHello is in `out`
  char* data = nullptr;
  const long n = BIO_ctrl(out, BIO_CTRL_INFO, 0, &data);  // BIO_get_mem_data, without its C cast
  bytes records(reinterpret_cast<const std::byte*>(data), reinterpret_cast<const std::byte*>(data) + n);
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  return records;
}

// The handshake message inside the first flight (it fits one record).
inline bytes handshake_of(const bytes& records) { return bytes(records.begin() + 5, records.end()); }

inline bytes openssl_client_hello(const std::string& sni, const std::vector<std::string>& alpn) {
  return handshake_of(openssl_client_hello_records(sni, alpn));
}

// `message` framed as handshake records of at most `record_size` bytes.
inline bytes to_records(std::span<const std::byte> message, std::size_t record_size) {
  bytes out;
  for (std::size_t at = 0; at < message.size(); at += record_size) {
    const auto chunk = message.subspan(at, std::min(record_size, message.size() - at));
    out.push_back(std::byte{22});
    out.push_back(std::byte{3});
    out.push_back(std::byte{1});
    put_u16(out, chunk.size());
    append(out, chunk);
  }
  return out;
}

inline bytes extension(std::uint16_t type, std::span<const std::byte> data) {
  bytes out;
  put_u16(out, type);
  put_u16(out, data.size());
  append(out, data);
  return out;
}

inline bytes sni_extension(std::string_view name, std::uint8_t name_type = 0) {
  bytes entry{std::byte{name_type}};
  put_u16(entry, name.size());
  append(entry, from_text(name));
  bytes list;
  put_u16(list, entry.size());
  append(list, entry);
  return extension(0, list);
}

inline bytes alpn_extension(const std::vector<std::string>& names) {
  bytes entries;
  for (const auto& n : names) {
    entries.push_back(static_cast<std::byte>(n.size()));
    append(entries, from_text(n));
  }
  bytes list;
  put_u16(list, entries.size());
  append(list, entries);
  return extension(16, list);
}

// A TLS 1.3-shaped ClientHello with these extensions (already encoded) and
// cipher suites, GREASE first as browsers send them.
inline bytes hand_built_client_hello(const std::vector<bytes>& extensions,
                                     std::vector<std::uint16_t> suites = {0x2a2a, 0x1301, 0x1302}) {
  bytes body;
  put_u16(body, 0x0303);
  body.insert(body.end(), 32, std::byte{0x11});  // random
  body.push_back(std::byte{32});
  body.insert(body.end(), 32, std::byte{0x22});  // legacy_session_id
  put_u16(body, suites.size() * 2);
  for (auto s : suites) put_u16(body, s);
  body.push_back(std::byte{1});
  body.push_back(std::byte{0});  // compression: null
  bytes ext;
  for (const auto& e : extensions) append(ext, e);
  put_u16(body, ext.size());
  append(body, ext);
  bytes msg{std::byte{1}, std::byte{0}};
  put_u16(msg, body.size());
  append(msg, body);
  return msg;
}

}  // namespace sniff_test
