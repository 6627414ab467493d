// Writes the seed corpora of the sniffer fuzz targets: OUTDIR/{tls_client_hello,
// http_request_head,stream_sniffer,quic_initial}/ with real ClientHellos made
// by OpenSSL, hand-built GREASE and ECH ones, HTTP heads, an SSH banner and
// QUIC inputs in each target's input format (see the fuzz_*.cpp headers).
// The committed corpora (fuzz/corpus/) were written by it:
// build-fuzz/fuzz/netpen_fuzz_seeds fuzz/corpus (the ClientHellos differ on
// each run: OpenSSL's random fields). Usage: netpen_fuzz_seeds OUTDIR
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "tests/unit/quic_initial_builder.hpp"
#include "tests/unit/sniff_test_util.hpp"

using namespace sniff_test;

namespace {

void write(const std::filesystem::path& dir, const std::string& name, const bytes& data) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary).write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

bytes prefixed(std::uint8_t first, const bytes& rest) {
  bytes out{std::byte{first}};
  append(out, rest);
  return out;
}

std::vector<bytes> hellos() {
  return {openssl_client_hello("seed.example", {"h2", "http/1.1"}), openssl_client_hello("", {}),
          hand_built_client_hello({extension(0x1a1a, {}), sni_extension("g.example"), alpn_extension({"\x2a\x2a", "h3"}),
                                   extension(0xfe0d, from_hex("00000100"))})};
}

std::vector<bytes> heads() {
  return {from_text("GET /a?b HTTP/1.1\r\nHost: h.example:80\r\nAccept: */*\r\n\r\n"),
          from_text("GET http://p.example:81/x?y HTTP/1.1\r\nHost: q\r\n\r\n"),
          from_text("CONNECT c.example:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n"),
          from_text("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: netpen_fuzz_seeds OUTDIR\n");
    return 2;
  }
  const std::filesystem::path out = argv[1];
  int n = 0;
  for (const auto& h : hellos()) {
    const auto id = std::to_string(n++);
    write(out / "tls_client_hello", id, h);
    write(out / "stream_sniffer", "tls" + id, prefixed(7, to_records(h, 16384)));
    write(out / "stream_sniffer", "tls-split" + id, prefixed(3, to_records(h, 100)));
    write(out / "quic_initial", "frames" + id, prefixed(0, quic_test::crypto_frame(0, h)));
    const auto d = quic_test::initial_datagram(h);
    bytes raw{std::byte(d.size() >> 8), std::byte(d.size() & 0xff)};
    append(raw, d);
    write(out / "quic_initial", "datagram" + id, prefixed(1, raw));
  }
  for (const auto& h : heads()) {
    const auto id = std::to_string(n++);
    write(out / "http_request_head", id, h);
    write(out / "stream_sniffer", "http" + id, prefixed(5, h));
  }
  return 0;
}
