// Root-only test of net/netfilter against the kernel, inside a forked child's
// private network namespace (loopback only, nothing leaves the machine): an
// nft output chain queues new UDP flows to port 9999; one is accepted and
// delivered, one is answered with repeat + deny mark and dropped; conntrack
// events show the accepted flow created and, after a flush, destroyed with
// its byte counters. The child (private_netns) reports a failure sentence.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_ether.h>
#include <linux/netfilter.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "backends/common/sysctl.hpp"
#include "backends/rootful/nft_queue_rule.hpp"
#include "net/netfilter/conntrack_codec.hpp"
#include "net/netfilter/netfilter_socket.hpp"
#include "net/netfilter/netlink_attrs.hpp"
#include "net/netfilter/nfqueue_codec.hpp"
#include "tests/unit/private_netns.hpp"

namespace nf = netpen::netfilter;
using netns_test::expect;

namespace {

constexpr std::uint16_t test_queue = 3;
constexpr std::uint16_t server_port = 9999;
constexpr std::uint32_t deny_mark = 0x10;

// New flows to 9999 jump to chain q, which queues them with the product's
// own flow-gate rule (append_queue_rule: the x_tables NFQUEUE target, which
// works where the kernel lacks nft_queue).
const char* const ruleset = R"(
table ip netpen_nf_test {
  counter denied {}
  chain q {}
  chain out {
    type filter hook output priority 0; policy accept;
    meta mark 0x10 counter name denied drop
    ct state new udp dport 9999 jump q
  }
}
)";

struct fd_guard {
  int fd = -1;
  explicit fd_guard(int f) : fd(f) {}
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  ~fd_guard() {
    if (fd >= 0) ::close(fd);
  }
};

bool readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) == 1;
}

void loopback_up() {
  const fd_guard s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  expect(::ioctl(s.fd, SIOCGIFFLAGS, &ifr) == 0, "SIOCGIFFLAGS lo");
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  expect(::ioctl(s.fd, SIOCSIFFLAGS, &ifr) == 0, "SIOCSIFFLAGS lo up");
}

// Runs a shell command, feeding `input` or returning its output.
int shell(const std::string& cmd, const char* input, std::string* output) {
  FILE* f = ::popen(cmd.c_str(), input != nullptr ? "w" : "r");
  if (f == nullptr) return -1;
  if (input != nullptr) std::fputs(input, f);
  char line[512];
  while (output != nullptr && std::fgets(line, sizeof line, f) != nullptr) *output += line;
  const int st = ::pclose(f);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

int udp_socket(std::uint16_t port) {
  const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  const sockaddr_in a = loopback(port);
  expect(s >= 0 && ::bind(s, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0, "bind udp");
  return s;
}

std::uint16_t local_port(int s) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

void send_to(int s, std::uint16_t port, const std::string& text) {
  const sockaddr_in a = loopback(port);
  expect(::sendto(s, text.data(), text.size(), 0, reinterpret_cast<const sockaddr*>(&a), sizeof a) ==
             static_cast<ssize_t>(text.size()),
         "sendto");
}

std::optional<std::string> receive(int s, int timeout_ms, std::uint16_t* from_port = nullptr) {
  if (!readable(s, timeout_ms)) return std::nullopt;
  char buf[256];
  sockaddr_in from{};
  socklen_t len = sizeof from;
  const ssize_t n = ::recvfrom(s, buf, sizeof buf, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &len);
  if (n < 0) return std::nullopt;
  if (from_port != nullptr) *from_port = ntohs(from.sin_port);
  return std::string(buf, static_cast<std::size_t>(n));
}

// A queued packet with its own copy of the payload (the parsed span points
// into the socket's receive buffer, valid only during on_message).
struct owned_packet {
  nf::queued_packet meta;
  std::vector<std::byte> bytes;
};

// Waits up to 2 s for the next queued packet.
owned_packet next_queued(nf::netlink_socket& q) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  std::optional<owned_packet> got;
  while (!got && std::chrono::steady_clock::now() < deadline) {
    if (!readable(q.fd(), 200)) continue;
    const auto r = q.drain([&](const nlmsghdr* nlh) {
      if (got) return;
      if (auto p = nf::parse_queued_packet(nlh)) got = owned_packet{*p, {p->payload.begin(), p->payload.end()}};
    });
    expect(r.has_value(), "drain of the queue socket");
  }
  expect(got.has_value(), "no packet was queued within 2 s");
  got->meta.payload = got->bytes;
  return std::move(*got);
}

void check_udp_payload(const owned_packet& owned, std::uint16_t sport, const std::string& text) {
  const nf::queued_packet& p = owned.meta;
  expect(p.queue == test_queue, "queue number " + std::to_string(p.queue));
  expect(p.hw_protocol == ETH_P_IP, "hw_protocol");
  expect(p.hook == NF_INET_LOCAL_OUT, "hook " + std::to_string(p.hook));
  const auto* b = reinterpret_cast<const std::uint8_t*>(p.payload.data());
  expect(p.payload.size() >= 28, "payload too short");
  const std::size_t ihl = (b[0] & 0xfU) * 4U;
  expect(b[0] >> 4 == 4 && b[9] == IPPROTO_UDP, "not IPv4 UDP");
  const std::uint8_t lo[4] = {127, 0, 0, 1};
  expect(std::memcmp(b + 12, lo, 4) == 0 && std::memcmp(b + 16, lo, 4) == 0, "addresses");
  const auto port_at = [&](std::size_t off) { return static_cast<std::uint16_t>((b[off] << 8) | b[off + 1]); };
  expect(port_at(ihl) == sport, "source port " + std::to_string(port_at(ihl)) + " want " + std::to_string(sport));
  expect(port_at(ihl + 2) == server_port, "destination port");
  expect(p.payload.size() == ihl + 8 + text.size(), "payload length");
}

std::vector<nf::conntrack_entry> collect_events(nf::netlink_socket& ct, int timeout_ms,
                                                 const std::function<bool(const nf::conntrack_entry&)>& until) {
  std::vector<nf::conntrack_entry> seen;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  bool done = false;
  while (!done && std::chrono::steady_clock::now() < deadline) {
    if (!readable(ct.fd(), 100)) continue;
    const auto r = ct.drain([&](const nlmsghdr* nlh) {
      if (auto e = nf::parse_conntrack(nlh)) {
        seen.push_back(*e);
        if (until(*e)) done = true;
      } else if (auto err = nf::ack_error(nlh)) {
        expect(*err == 0, "flush refused: " + std::string(std::strerror(*err)));
      }
    });
    expect(r.has_value(), "drain of the conntrack socket");
    expect(!r->overrun, "conntrack events overrun");
  }
  return seen;
}

bool is_flow(const nf::conntrack_entry& e, std::uint16_t sport) {
  return e.original.proto == IPPROTO_UDP && e.original.sport == sport && e.original.dport == server_port;
}

// lo up, the test table with the product's flow-gate rule, conntrack accounting.
void install_gate() {
  loopback_up();
  const int nft = shell("nft -f - 2>&1", ruleset, nullptr);
  if (nft == 127) throw netns_test::netns_failure{"skip: nft is not installed"};
  expect(nft == 0, "nft -f failed with " + std::to_string(nft));
  const auto gate = netpen::backends::rootful::append_queue_rule(NFPROTO_IPV4, "netpen_nf_test", "q", test_queue);
  expect(gate.has_value(), "the flow-gate rule: " + (gate ? "" : gate.error().message));
  netns_test::expect_ok(netpen::backends::write_sysctl("net/netfilter/nf_conntrack_acct", "1"), "nf_conntrack_acct=1");
}

// The queue socket: bound once only, close-on-exec, non-blocking, empty.
nf::netlink_socket open_test_queue() {
  auto q = nf::netlink_socket::open_queue(test_queue, 0xffff);
  expect(q.has_value(), "open_queue: " + (q ? "" : q.error().message));
  {
    auto again = nf::netlink_socket::open_queue(test_queue, 0xffff);
    expect(!again && again.error().code == "nfqueue" && again.error().message.find("another program") != std::string::npos,
           "a second bind of the queue should say it is taken: " + (again ? "bound" : again.error().message));
  }
  const int fd_flags = ::fcntl(q->fd(), F_GETFD);
  expect((fd_flags & FD_CLOEXEC) != 0 && (::fcntl(q->fd(), F_GETFL) & O_NONBLOCK) != 0, "cloexec + nonblocking");
  const auto empty = q->drain([](const nlmsghdr*) {});
  expect(empty && empty->messages == 0 && !empty->overrun, "drain of an empty socket");
  return std::move(*q);
}

// Flow A: queued, accepted, delivered; the answer is not queued (not new).
// Returns its packet id.
std::uint32_t accept_flow_a(nf::netlink_socket& q, const fd_guard& server, const fd_guard& client_a) {
  const std::uint16_t port_a = local_port(client_a.fd);
  send_to(client_a.fd, server_port, "hello-a");
  const auto pa = next_queued(q);
  check_udp_payload(pa, port_a, "hello-a");
  char vbuf[nf::request_buffer_size];
  expect(q.send(nf::build_verdict(vbuf, test_queue, pa.meta.id, nf::verdict::accept)).has_value(), "accept verdict");
  std::uint16_t from = 0;
  expect(receive(server.fd, 2000, &from) == "hello-a" && from == port_a, "flow A was not delivered");
  send_to(server.fd, port_a, "reply-a!");
  expect(receive(client_a.fd, 2000) == "reply-a!", "flow A's reply was not delivered");
  return pa.meta.id;
}

// Flow B: queued, repeat with the deny mark: the chain's mark rule drops it.
void deny_flow_b(nf::netlink_socket& q, const fd_guard& server, const fd_guard& client_b, std::uint32_t id_a) {
  send_to(client_b.fd, server_port, "hello-b");
  const auto pb = next_queued(q);
  check_udp_payload(pb, local_port(client_b.fd), "hello-b");
  expect(pb.meta.id != id_a, "packet ids differ");
  char vbuf[nf::request_buffer_size];
  expect(q.send(nf::build_verdict(vbuf, test_queue, pb.meta.id, nf::verdict::repeat, deny_mark)).has_value(),
         "repeat verdict");
  expect(!receive(server.fd, 300), "flow B was delivered despite the deny mark");
  std::string counter;
  shell("nft list counter ip netpen_nf_test denied 2>&1", nullptr, &counter);
  expect(counter.find("packets 1 ") != std::string::npos, "deny counter: " + counter);
  std::size_t stray = 0;
  (void)q.drain([&](const nlmsghdr* nlh) { if (nf::parse_queued_packet(nlh)) ++stray; });
  expect(stray == 0, "a packet was queued again after repeat");
}

// A verdict for an unknown id is answered with an error message.
void refuse_unknown_verdict(nf::netlink_socket& q) {
  char vbuf[nf::request_buffer_size];
  expect(q.send(nf::build_verdict(vbuf, test_queue, 0x7ffffff0, nf::verdict::accept)).has_value(), "stray verdict");
  std::optional<int> refused;
  if (readable(q.fd(), 1000)) (void)q.drain([&](const nlmsghdr* nlh) { refused = nf::ack_error(nlh); });
  expect(refused.has_value() && *refused == ENOENT, "a verdict for an unknown id should be refused with ENOENT");
}

// Conntrack: A created (B never confirmed), then destroyed by a flush with
// its counters.
void check_conntrack_events(nf::netlink_socket& ct, std::uint16_t port_a, std::uint16_t port_b) {
  auto events = collect_events(ct, 2000, [&](const nf::conntrack_entry& e) {
    return e.event == nf::ct_event::created && is_flow(e, port_a);
  });
  bool created_a = false;
  for (const auto& e : events) {
    created_a |= e.event == nf::ct_event::created && is_flow(e, port_a);
    expect(!is_flow(e, port_b), "an event for the denied flow B");
  }
  expect(created_a, "no created event for flow A (" + std::to_string(events.size()) + " events)");

  char vbuf[nf::request_buffer_size];
  expect(ct.send(nf::build_conntrack_flush(vbuf, 77)).has_value(), "flush");
  events = collect_events(ct, 2000, [&](const nf::conntrack_entry& e) {
    return e.event == nf::ct_event::destroyed && is_flow(e, port_a);
  });
  const nf::conntrack_entry* destroyed = nullptr;
  for (const auto& e : events)
    if (e.event == nf::ct_event::destroyed && is_flow(e, port_a)) destroyed = &e;
  expect(destroyed != nullptr, "no destroyed event for flow A after the flush");
  const auto& d = *destroyed;
  expect(d.original.family == AF_INET && d.reply.sport == server_port && d.reply.dport == port_a, "reply tuple");
  expect(d.id != 0, "conntrack id");
  const auto counts = std::to_string(d.orig_packets) + "/" + std::to_string(d.orig_bytes) + " " +
                      std::to_string(d.reply_packets) + "/" + std::to_string(d.reply_bytes);
  expect(d.orig_packets == 1 && d.orig_bytes == 28 + 7 && d.reply_packets == 1 && d.reply_bytes == 28 + 8,
         "counters " + counts);
}

void scenario() {
  install_gate();
  auto ct = nf::netlink_socket::open_conntrack_events();
  expect(ct.has_value(), "open_conntrack_events: " + (ct ? "" : ct.error().message));
  auto q = open_test_queue();
  const fd_guard server(udp_socket(server_port));
  const fd_guard client_a(udp_socket(0));
  const fd_guard client_b(udp_socket(0));
  const auto id_a = accept_flow_a(q, server, client_a);
  deny_flow_b(q, server, client_b, id_a);
  refuse_unknown_verdict(q);
  check_conntrack_events(*ct, local_port(client_a.fd), local_port(client_b.fd));
}

}  // namespace

TEST_CASE("netfilter: NFQUEUE verdicts and conntrack events against the kernel", "[netfilter][root]") {
  netns_test::check_in_private_netns(
      [] {
        scenario();
        return std::string();
      },
      std::chrono::seconds(20));
}
