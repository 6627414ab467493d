// [hostport] The pieces that carry --host-port's sockets from the sandbox
// init to netpen: several fds in one control message, in order; and, as
// root in a private network namespace, the listeners themselves (one per
// port, protocol and loopback address, IPv6 ones IPv6-only, a TCP one
// accepting connections, an address the namespace lacks refused).
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "backends/common/fd_passing.hpp"
#include "backends/common/host_port_listeners.hpp"
#include "tests/unit/private_netns.hpp"

using namespace netpen::backends;
using netns_test::expect;

namespace {

int option(int fd, int level, int name) {
  int v = -1;
  socklen_t len = sizeof v;
  ::getsockopt(fd, level, name, &v, &len);
  return v;
}

std::string local_text(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "?";
  char text[INET6_ADDRSTRLEN] = "";
  if (ss.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    ::inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
    return std::string(text) + ":" + std::to_string(ntohs(a->sin_port));
  }
  const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
  ::inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
  return "[" + std::string(text) + "]:" + std::to_string(ntohs(a->sin6_port));
}

void bring_lo_up() {
  const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  expect(::ioctl(s, SIOCGIFFLAGS, &ifr) == 0, "SIOCGIFFLAGS lo");
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  expect(::ioctl(s, SIOCSIFFLAGS, &ifr) == 0, "SIOCSIFFLAGS lo up");
  ::close(s);
}

}  // namespace

TEST_CASE("several fds cross the control channel in one message, in order", "[hostport]") {
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
  unique_fd a(sv[0]), b(sv[1]);
  std::vector<unique_fd> pipes;
  std::vector<int> write_ends;
  for (int i = 0; i < 3; ++i) {
    int p[2];
    REQUIRE(::pipe(p) == 0);
    pipes.emplace_back(p[0]);
    pipes.emplace_back(p[1]);
    write_ends.push_back(p[1]);
  }
  REQUIRE(send_message(a.get(), "listeners", write_ends));
  auto m = receive_message(b.get());
  REQUIRE(m);
  CHECK(m->payload == "listeners");
  REQUIRE(m->fds.size() == 3);
  const int got[3] = {m->fds[0].get(), m->fds[1].get(), m->fds[2].get()};
  for (int i = 0; i < 3; ++i) {  // each arrives where it was sent: write to it, read from its pipe
    const char c = static_cast<char>('a' + i);
    CHECK(::write(got[i], &c, 1) == 1);
    char r = 0;
    CHECK(::read(pipes[static_cast<std::size_t>(2 * i)].get(), &r, 1) == 1);
    CHECK(r == c);
  }
  const std::vector<int> too_many(max_message_fds + 1, write_ends[0]);
  CHECK_FALSE(send_message(a.get(), "listeners", too_many));
}

TEST_CASE("host-port listeners at 127.0.0.1 and ::1 in a private netns", "[hostport][root]") {
  netns_test::check_in_private_netns([] {
    bring_lo_up();
    const netpen::relay::host_port_set ports({{false, 8080}, {true, 53}});
    auto fds = netns_test::expect_ok(open_host_port_listeners(ports, loopback_addresses(), "inside", true), "open");
    expect(fds.size() == 4, "four sockets: " + std::to_string(fds.size()));
    std::vector<std::string> seen;
    for (const auto& fd : fds) {
      const bool tcp = option(fd.get(), SOL_SOCKET, SO_TYPE) == SOCK_STREAM;
      const bool v6 = option(fd.get(), SOL_SOCKET, SO_DOMAIN) == AF_INET6;
      seen.push_back(std::string(tcp ? "tcp " : "udp ") + local_text(fd.get()));
      if (v6) expect(option(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY) == 1, "IPv6 listeners are IPv6-only");
      if (tcp) expect(option(fd.get(), SOL_SOCKET, SO_ACCEPTCONN) == 1, "TCP sockets listen");
    }
    // Sorted by protocol (TCP first), then port; each at 127.0.0.1 then ::1.
    expect(seen == std::vector<std::string>{"tcp 127.0.0.1:8080", "tcp [::1]:8080", "udp 127.0.0.1:53", "udp [::1]:53"},
           "addresses: " + seen[0] + ", " + seen[1] + ", " + seen[2] + ", " + seen[3]);
    // A client connects to the TCP one (the backlog holds it until netpen accepts).
    const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(8080);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    expect(::connect(c, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0, "connect to 127.0.0.1:8080");
    ::close(c);
    // An address this namespace does not have is an error naming it (IPv4
    // always; IPv6 too unless optional).
    const std::vector<std::string> absent{"192.0.2.1"};
    auto r = open_host_port_listeners(ports, absent, "on the gateway", false);
    expect(!r && r.error().message.find("cannot listen on tcp/192.0.2.1:8080 on the gateway") != std::string::npos,
           "a missing address is refused");
    const std::vector<std::string> absent6{"2001:db8::1"};
    auto optional6 = open_host_port_listeners(ports, absent6, "inside", true);
    expect(optional6 && optional6->empty(), "a missing optional IPv6 address is skipped");
    expect(!open_host_port_listeners(ports, absent6, "on the gateway", false), "... a required one is not");
    return std::string();
  });
}
