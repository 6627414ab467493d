// netpen_quic_client HOST PORT SNI: sends one QUIC v1 client Initial (a
// ClientHello made by OpenSSL asking for SNI with ALPN h3, padded to 1200
// bytes; tests/unit/quic_initial_builder.hpp) to HOST:PORT over UDP (HOST:
// an IPv4 or IPv6 literal), waits up to 1 s for any answer and exits 0
// once the datagram was sent (1: it could not be sent, 2: usage). The e2e
// tests use it to show that netpen sees a QUIC Initial's SNI; it is built
// next to netpen (build/app/netpen_quic_client).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "tests/unit/quic_initial_builder.hpp"
#include "tests/unit/sniff_test_util.hpp"

namespace {

bool fill_address(const char* host, int port, sockaddr_storage& out, socklen_t& len) {
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out);
  if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<std::uint16_t>(port));
    len = sizeof(sockaddr_in);
    return true;
  }
  if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<std::uint16_t>(port));
    len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

quic_test::bytes random_bytes(std::size_t n) {
  std::random_device rd;
  quic_test::bytes out(n);
  for (auto& b : out) b = static_cast<std::byte>(rd() & 0xff);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: netpen_quic_client HOST PORT SNI\n");
    return 2;
  }
  const int port = std::atoi(argv[2]);
  sockaddr_storage to{};
  socklen_t to_len = 0;
  if (port <= 0 || port > 65535 || !fill_address(argv[1], port, to, to_len)) {
    std::fprintf(stderr, "netpen_quic_client: HOST must be an IP literal and PORT 1-65535\n");
    return 2;
  }
  quic_test::initial_spec spec;
  spec.dcid = random_bytes(8);
  spec.scid = random_bytes(8);
  const auto datagram = quic_test::initial_datagram(sniff_test::openssl_client_hello(argv[3], {"h3"}), spec);
  const int fd = socket(to.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || sendto(fd, datagram.data(), datagram.size(), 0, reinterpret_cast<sockaddr*>(&to), to_len) < 0) {
    std::perror("netpen_quic_client: send");
    return 1;
  }
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, 1000) > 0) {
    char answer[2048];
    const auto n = recv(fd, answer, sizeof answer, 0);
    std::printf("answer: %zd bytes\n", n);
  }
  close(fd);
  return 0;
}
