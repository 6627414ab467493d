// [wire_root] The wire-egress AF_PACKET tap for real: a forked child
// unshares a network namespace, brings `lo` up, opens the tap and makes
// TCP, UDP and ICMP echo exchanges over 127.0.0.1, one socket of each
// registered and one not; only the registered ones' packets may arrive,
// each once, and nothing foreign may even reach userspace. The child
// reports through its exit status (and stderr). Tagged [root]: skipped
// (ctest: Not Run) when not root.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "backends/common/sysctl.hpp"
#include "capture/capture_file.hpp"
#include "capture/wire_tap.hpp"
#include "net/packet/frame.hpp"
#include "tests/unit/skip.hpp"

namespace cap = netpen::capture;
namespace pk = netpen::packet;
namespace relay = netpen::relay;

namespace {

using namespace std::chrono_literals;

// A failed check in the child: message on stderr, then exit with `code`.
struct child_failure {
  int code;
  std::string what;
};

void expect(bool ok, int code, const std::string& what) {
  if (!ok) throw child_failure{code, what};
}

// Runs `body` in a forked child (its return ignored, a child_failure or
// any exception is a non-zero exit) and waits for it, at most `limit`.
// Returns the child's exit code, or -signal.
int run_in_child(const std::function<void()>& body, std::chrono::seconds limit = 30s) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::alarm(static_cast<unsigned>(limit.count()));  // the child's own bound
    int code = 0;
    try {
      body();
    } catch (const child_failure& f) {
      std::fprintf(stderr, "wire tap child: %s\n", f.what.c_str());
      code = f.code;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "wire tap child: exception %s\n", e.what());
      code = 98;
    } catch (...) {
      code = 99;
    }
    std::fflush(nullptr);
    ::_exit(code);
  }
  const auto deadline = std::chrono::steady_clock::now() + limit + 5s;
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      FAIL("the wire tap child did not finish in time");
    }
    std::this_thread::sleep_for(10ms);
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

void bring_loopback_up() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  expect(fd >= 0, 11, "socket for ioctl");
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  expect(::ioctl(fd, SIOCGIFFLAGS, &ifr) == 0, 11, "SIOCGIFFLAGS lo");
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  expect(::ioctl(fd, SIOCSIFFLAGS, &ifr) == 0, 11, "SIOCSIFFLAGS lo up");
  ::close(fd);
}

void new_network_namespace() {
  expect(::unshare(CLONE_NEWNET) == 0, 10, std::string("unshare: ") + std::strerror(errno));
  bring_loopback_up();
}

void set_sysctl(const char* path, const std::string& value) {
  const auto ok = netpen::backends::write_sysctl(path, value);
  expect(ok.has_value(), 32, ok ? "" : ok.error().message);
}

struct fd_guard {
  int fd;
  explicit fd_guard(int f) : fd(f) { expect(fd >= 0, 12, std::string("socket: ") + std::strerror(errno)); }
  ~fd_guard() {
    if (fd >= 0) ::close(fd);
  }
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
};

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  return a;
}

int open_socket(int type, int protocol = 0) {
  const int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, protocol);
  if (fd >= 0) {
    const timeval tv{5, 0};  // every blocking call is bounded
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }
  return fd;
}

std::uint16_t bind_loopback(int fd) {
  const auto a = loopback(0);
  expect(::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0, 13, "bind");
  sockaddr_in got{};
  socklen_t len = sizeof got;
  expect(::getsockname(fd, reinterpret_cast<sockaddr*>(&got), &len) == 0, 13, "getsockname");
  return ntohs(got.sin_port);
}

relay::host_conn conn_of(std::uint8_t protocol, std::uint16_t local_port, std::uint16_t remote_port) {
  relay::host_conn c;
  c.protocol = protocol;
  c.remote.bytes = {127, 0, 0, 1};
  c.local_port = local_port;
  c.remote_port = remote_port;
  return c;
}

void send_all(int fd, const std::string& s) {
  expect(::send(fd, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size()), 14, "send");
}
std::string receive(int fd, std::size_t n) {
  std::string s(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    const auto r = ::recv(fd, s.data() + got, n - got, 0);
    expect(r > 0, 14, "recv");
    got += static_cast<std::size_t>(r);
  }
  return s;
}
void expect_eof(int fd) {
  char c = 0;
  expect(::recv(fd, &c, 1, 0) == 0, 14, "expected EOF");
}

// One TCP exchange from client to the listener: "hello" up, "world!"
// down, the client half-closes first. Returns the client's port.
std::uint16_t tcp_exchange(int listener, std::uint16_t listen_port, const std::function<void(std::uint16_t)>& before_connect) {
  const fd_guard client(open_socket(SOCK_STREAM));
  const auto port = bind_loopback(client.fd);
  before_connect(port);
  const auto to = loopback(listen_port);
  expect(::connect(client.fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0, 15, "connect");
  const fd_guard server(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
  send_all(client.fd, "hello");
  expect(receive(server.fd, 5) == "hello", 15, "server got hello");
  send_all(server.fd, "world!");
  expect(receive(client.fd, 6) == "world!", 15, "client got world!");
  expect(::shutdown(client.fd, SHUT_WR) == 0, 15, "shutdown");
  expect_eof(server.fd);
  expect(::shutdown(server.fd, SHUT_WR) == 0, 15, "server shutdown");
  expect_eof(client.fd);
  return port;
}

// One captured packet, decoded enough for the checks.
struct seen_packet {
  std::uint64_t ts_ns = 0;
  std::vector<std::byte> data;
  std::uint32_t original_length = 0;
  relay::host_conn conn;

  unsigned u8(std::size_t i) const { return std::to_integer<unsigned>(data.at(i)); }
  unsigned u16(std::size_t i) const { return u8(i) << 8 | u8(i + 1); }
  std::size_t l4() const { return (u8(0) & 0xfu) * 4; }
  unsigned protocol() const { return u8(9); }
  unsigned sport() const { return u16(l4()); }
  unsigned dport() const { return u16(l4() + 2); }
  unsigned tcp_flags() const { return u8(l4() + 13); }
  std::string tcp_payload() const {
    const std::size_t start = l4() + (u8(l4() + 12) >> 4) * 4, end = u16(2);
    std::string s;
    for (std::size_t i = start; i < end; ++i) s.push_back(static_cast<char>(u8(i)));
    return s;
  }
};

struct recorder {
  std::mutex mu;
  std::vector<seen_packet> packets;

  cap::wire_tap::packet_fn callback() {
    return [this](std::uint64_t ts, std::span<const std::byte> ip, std::uint32_t original, const relay::host_conn& c) {
      const std::lock_guard lk(mu);
      packets.push_back({ts, {ip.begin(), ip.end()}, original, c});
    };
  }
  std::vector<seen_packet> snapshot() {
    const std::lock_guard lk(mu);
    return packets;
  }
  // Waits (bounded) until `done` holds for the packets seen so far.
  bool wait_for(const std::function<bool(const std::vector<seen_packet>&)>& done) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (done(snapshot())) return true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }
};

std::size_t count(const std::vector<seen_packet>& ps, const std::function<bool(const seen_packet&)>& pred) {
  std::size_t n = 0;
  for (const auto& p : ps) n += pred(p) ? 1u : 0u;
  return n;
}

void check_tcp(recorder& rec, std::uint16_t ours, std::uint16_t listen_port) {
  const auto syn = [ours](const seen_packet& p) { return p.sport() == ours && p.tcp_flags() == pk::tcp_flag::syn; };
  const auto syn_ack = [ours](const seen_packet& p) {
    return p.dport() == ours && p.tcp_flags() == (pk::tcp_flag::syn | pk::tcp_flag::ack);
  };
  const auto fin_out = [ours](const seen_packet& p) { return p.sport() == ours && (p.tcp_flags() & pk::tcp_flag::fin); };
  const auto fin_in = [ours](const seen_packet& p) { return p.dport() == ours && (p.tcp_flags() & pk::tcp_flag::fin); };
  const auto hello = [ours](const seen_packet& p) { return p.sport() == ours && p.tcp_payload() == "hello"; };
  const auto world = [ours](const seen_packet& p) { return p.dport() == ours && p.tcp_payload() == "world!"; };
  const auto tcp_only = [](const std::vector<seen_packet>& all) {
    std::vector<seen_packet> out;
    for (const auto& p : all)
      if (p.protocol() == pk::proto_tcp) out.push_back(p);
    return out;
  };
  expect(rec.wait_for([&](const std::vector<seen_packet>& all) {
           const auto ps = tcp_only(all);
           return count(ps, fin_in) >= 1 && count(ps, fin_out) >= 1;
         }),
         20, "both FINs of the registered connection");
  std::this_thread::sleep_for(100ms);  // the last ACK
  const auto ps = tcp_only(rec.snapshot());
  for (const auto& p : ps) {
    expect(p.conn.local_port == ours && p.conn.remote_port == listen_port, 21,
           "a TCP packet of another socket: " + std::to_string(p.sport()) + " -> " + std::to_string(p.dport()));
    expect(p.sport() == ours || p.dport() == ours, 21, "the packet does not carry our port");
    expect(p.original_length == p.data.size(), 22, "original length");
  }
  expect(count(ps, syn) == 1, 23, "one SYN, seen " + std::to_string(count(ps, syn)));
  expect(count(ps, syn_ack) == 1, 23, "one SYN-ACK, seen " + std::to_string(count(ps, syn_ack)));
  expect(count(ps, hello) == 1, 23, "one data segment up");
  expect(count(ps, world) == 1, 23, "one data segment down");
  expect(count(ps, fin_out) == 1, 23, "one FIN out");
  expect(count(ps, fin_in) == 1, 23, "one FIN in");
  // Each packet once: no two captures with the same direction, sequence,
  // acknowledgment and flags (on lo a duplicate would be the other copy).
  for (std::size_t i = 0; i < ps.size(); ++i)
    for (std::size_t j = i + 1; j < ps.size(); ++j)
      expect(!(ps[i].data == ps[j].data), 24, "a packet delivered twice");
  const auto now = cap::wall_clock_ns();
  for (const auto& p : ps)
    expect(p.ts_ns > now - 60'000'000'000ull && p.ts_ns <= now, 25, "kernel timestamp near now");
  std::fprintf(stderr, "wire tap child: TCP: %zu packets of the registered connection\n", ps.size());
}

void check_udp_and_ping(cap::wire_tap& tap, recorder& rec) {
  // UDP: an echo socket, one registered client and one not.
  const fd_guard echo(open_socket(SOCK_DGRAM));
  const auto echo_port = bind_loopback(echo.fd);
  const auto echo_to = loopback(echo_port);
  std::uint16_t ours = 0;
  for (const bool registered : {true, false}) {
    const fd_guard client(open_socket(SOCK_DGRAM));
    const auto port = bind_loopback(client.fd);
    if (registered) {
      ours = port;
      tap.add(conn_of(pk::proto_udp, port, echo_port));
    }
    expect(::connect(client.fd, reinterpret_cast<const sockaddr*>(&echo_to), sizeof echo_to) == 0, 30, "udp connect");
    send_all(client.fd, "ping");
    char buf[16];
    sockaddr_in from{};
    socklen_t len = sizeof from;
    expect(::recvfrom(echo.fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len) == 4, 30, "udp echo in");
    expect(::sendto(echo.fd, buf, 4, 0, reinterpret_cast<const sockaddr*>(&from), len) == 4, 30, "udp echo out");
    expect(::recv(client.fd, buf, sizeof buf, 0) == 4, 30, "udp reply");
  }
  const auto udp = [](const seen_packet& p) { return p.protocol() == pk::proto_udp; };
  expect(rec.wait_for([&](const std::vector<seen_packet>& ps) { return count(ps, udp) >= 2; }), 31, "two UDP packets");

  // ICMP echo from a ping socket (allowed for root's group in this namespace).
  set_sysctl("net/ipv4/ping_group_range", "0 0");
  const fd_guard ping(open_socket(SOCK_DGRAM, IPPROTO_ICMP));
  const auto id = bind_loopback(ping.fd);
  tap.add(conn_of(pk::proto_icmp, id, 0));
  const auto lo = loopback(0);
  const unsigned char request[8] = {8, 0, 0, 0, 0, 0, 0, 1};  // the kernel fills in id and checksum
  expect(::sendto(ping.fd, request, sizeof request, 0, reinterpret_cast<const sockaddr*>(&lo), sizeof lo) == 8, 33,
         "ping send");
  unsigned char reply[64];
  expect(::recv(ping.fd, reply, sizeof reply, 0) == 8, 33, "ping reply");
  const auto icmp = [](const seen_packet& p) { return p.protocol() == pk::proto_icmp; };
  expect(rec.wait_for([&](const std::vector<seen_packet>& ps) { return count(ps, icmp) >= 2; }), 34, "two ICMP packets");
  std::this_thread::sleep_for(100ms);

  const auto ps = rec.snapshot();
  expect(count(ps, udp) == 2, 35, "UDP: exactly the request out and the reply in, seen " + std::to_string(count(ps, udp)));
  for (const auto& p : ps)
    if (udp(p)) expect(p.conn.local_port == ours && (p.sport() == ours || p.dport() == ours), 35, "foreign UDP");
  expect(count(ps, icmp) == 2, 36, "ICMP: the request out and the reply in, seen " + std::to_string(count(ps, icmp)));
  for (const auto& p : ps)
    if (icmp(p)) {
      const unsigned type = p.u8(p.l4());
      expect(p.conn.local_port == id && p.u16(p.l4() + 4) == id && (type == 8 || type == 0), 36, "ICMP packet");
    }
}

void wire_tap_child() {
  new_network_namespace();
  recorder rec;
  auto opened = cap::wire_tap::open(rec.callback(), 300ms);
  expect(opened.has_value(), 16, opened ? "" : opened.error().code + ": " + opened.error().message);
  auto& tap = **opened;
  expect(tap.start().has_value(), 17, "the reader did not start");

  const fd_guard listener(open_socket(SOCK_STREAM));
  const auto listen_port = bind_loopback(listener.fd);
  expect(::listen(listener.fd, 8) == 0, 13, "listen");

  // Registered after bind() and before connect(); then one not registered.
  relay::host_conn registered;
  const auto ours = tcp_exchange(listener.fd, listen_port, [&](std::uint16_t port) {
    registered = conn_of(pk::proto_tcp, port, listen_port);
    tap.add(registered);
  });
  const auto theirs = tcp_exchange(listener.fd, listen_port, [](std::uint16_t) {});
  expect(ours != theirs, 17, "two client ports");
  check_tcp(rec, ours, listen_port);
  check_udp_and_ping(tap, rec);

  // The kernel filter kept everything else out of userspace.
  expect(tap.packets_unmatched() == 0, 40, "unmatched packets reached userspace: " + std::to_string(tap.packets_unmatched()));
  expect(tap.packets_seen() == rec.snapshot().size(), 41, "packets_seen");
  expect(tap.packets_dropped() == 0, 42, "kernel drops");
  expect(tap.coarse_protocols().empty() && !tap.last_error(), 43, "exact filter, no error");

  // Removed sockets linger, then the reader purges them on its own.
  expect(tap.sockets() == 3, 44, "three registered sockets, seen " + std::to_string(tap.sockets()));
  tap.remove(registered);
  expect(tap.sockets() == 3, 44, "still matched while lingering");
  std::this_thread::sleep_for(1200ms);  // linger 300 ms + a poll timeout
  expect(tap.sockets() == 2, 45, "purged after the linger time, seen " + std::to_string(tap.sockets()));

  tap.close();
  tap.close();
  tap.add(registered);  // after close: ignored
  expect(tap.sockets() == 2, 46, "add after close ignored");
}

// The kernel refuses big programs when the socket option memory is small
// (net.core.optmem_max, per namespace): the tap falls back to a coarse TCP
// filter and the userspace check keeps the result exact.
void coarse_fallback_child() {
  new_network_namespace();
  set_sysctl("net/core/optmem_max", "12288");
  recorder rec;
  auto opened = cap::wire_tap::open(rec.callback(), 300ms);
  expect(opened.has_value(), 16, opened ? "" : opened.error().code + ": " + opened.error().message);
  auto& tap = **opened;
  expect(tap.start().has_value(), 17, "the reader did not start");
  for (std::uint16_t i = 0; i < 1500; ++i) tap.add(conn_of(pk::proto_tcp, static_cast<std::uint16_t>(20000 + i), 9));
  expect(!tap.last_error(), 60, tap.last_error() ? tap.last_error()->message : "");
  expect(tap.coarse_protocols() == std::vector<std::uint8_t>{pk::proto_tcp}, 61, "TCP coarse");

  const fd_guard listener(open_socket(SOCK_STREAM));
  const auto listen_port = bind_loopback(listener.fd);
  expect(::listen(listener.fd, 8) == 0, 13, "listen");
  const auto ours = tcp_exchange(listener.fd, listen_port, [&](std::uint16_t port) {
    tap.add(conn_of(pk::proto_tcp, port, listen_port));
  });
  tcp_exchange(listener.fd, listen_port, [](std::uint16_t) {});
  check_tcp(rec, ours, listen_port);
  // The listener's copies and the other connection passed the coarse
  // kernel filter and were dropped in userspace.
  expect(tap.packets_unmatched() >= 10, 62, "unmatched: " + std::to_string(tap.packets_unmatched()));
}

}  // namespace

TEST_CASE("wire tap: a program too big for the socket's memory falls back to coarse", "[wire_root][root]") {
  SKIP_UNLESS_ROOT();
  CHECK(run_in_child(coarse_fallback_child) == 0);
}

TEST_CASE("wire tap: only registered host sockets' packets, each once", "[wire_root][root]") {
  SKIP_UNLESS_ROOT();
  CHECK(run_in_child(wire_tap_child) == 0);
}

TEST_CASE("wire tap: without CAP_NET_RAW the error says so", "[wire_root]") {
  const auto check = [] {
    auto tap = cap::wire_tap::open([](std::uint64_t, std::span<const std::byte>, std::uint32_t, const relay::host_conn&) {});
    expect(!tap.has_value(), 50, "opened without privilege");
    expect(tap.error().code == "capture-wire", 51, "code " + tap.error().code);
    expect(tap.error().message.find("CAP_NET_RAW") != std::string::npos, 52, "message " + tap.error().message);
  };
  if (::geteuid() != 0) {
    CHECK(run_in_child(check) == 0);
    return;
  }
  CHECK(run_in_child([&] {
          expect(::setresgid(65534, 65534, 65534) == 0 && ::setresuid(65534, 65534, 65534) == 0, 53, "drop to nobody");
          check();
        }) == 0);
}
