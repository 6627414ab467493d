// Test scaffolding for scripted tcp_flow tests ([relay]): a flow_context
// that records what a flow asks (its verdicts, the claim judgement and its
// delay controllable), and a rig that drives one flow on its own
// io_context thread. The child's side is scripted segments; what the flow
// sends the child comes back through a tap_writer on a socketpair; the
// host side is a loopback listener, reached through the DNS route (port 53
// on any address goes to settings().dns_tcp) or through an HTTP CONNECT
// "proxy" the test plays (fake_connect_proxy), so nothing leaves the machine.
#pragma once
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/this_coro.hpp>
#include <asio/write.hpp>
#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "net/common/asio_helpers.hpp"
#include "net/common/sandbox_addresses.hpp"
#include "net/packet/frame.hpp"
#include "net/proxy/proxy_config.hpp"
#include "net/relay/flow_context.hpp"
#include "net/relay/packet_pool.hpp"
#include "net/relay/tcp_flow.hpp"

namespace relay_test {

using namespace netpen;
using namespace std::chrono_literals;
namespace flag = packet::tcp_flag;

inline constexpr std::uint32_t child_isn = 5000;
inline constexpr std::uint32_t our_isn = 9000;

// Everything a flow may ask of the relay, recorded.
class test_context final : public relay::flow_context {
 public:
  explicit test_context(int tap_fd) { writer_.set_fd(tap_fd); }
  relay::flow_settings settings_;
  policy::decision verdict{policy::verdict::allow, "allow-rule", "test rule", {}};
  bool by_claim = false;  // judged_by_claim's answer
  bool observe = false;
  std::chrono::milliseconds claim_delay{0};
  policy::decision claim_verdict{policy::verdict::allow, "allowed-name", "example.com (--allow)", {}};

  const relay::flow_settings& settings() const override { return settings_; }
  std::optional<std::string> name_for(const packet::ip_address&) const override { return std::nullopt; }
  bool is_synthetic(const packet::ip_address&) const override { return false; }
  asio::awaitable<policy::decision> judge(const relay::flow_key&) override {
    std::lock_guard lock(mu);
    ++judged;
    co_return verdict;
  }
  bool judged_by_claim(const relay::flow_key&) const override { return by_claim; }
  // Records the claim, waits claim_delay (a slow verdict: the user asked),
  // then answers claim_verdict.
  asio::awaitable<policy::decision> judge_claim(const relay::flow_key&, const sniff::claim& claim) override {
    {
      std::lock_guard lock(mu);
      claims.push_back(claim);
      claim_judged_at.push_back(std::chrono::steady_clock::now());
    }
    if (claim_delay.count() > 0) {
      asio::steady_timer t(co_await asio::this_coro::executor, claim_delay);
      co_await t.async_wait(use_tuple);
    }
    co_return claim_verdict;
  }
  bool observing() const override { return observe; }
  asio::awaitable<void> owner_looked_up() override { co_return; }
  void opened(const relay::flow_key&, relay::flow_record& record) override {
    std::lock_guard lock(mu);
    record.announced = true;
    opened_records.push_back(record);
  }
  void closed(const relay::flow_key&, const relay::flow_record& record) override {
    std::lock_guard lock(mu);
    closed_records.push_back(record);
  }
  void claimed(const relay::flow_key&, const relay::flow_record& record) override {
    std::lock_guard lock(mu);
    claimed_records.push_back(record);
  }
  void denied(const relay::flow_key&, const policy::decision& d) override {
    std::lock_guard lock(mu);
    denials.push_back(d);
  }
  void denied(const relay::flow_key& key, const policy::decision& d, const sniff::claim& claim) override {
    denied(key, d);
    std::lock_guard lock(mu);
    denied_claims.push_back(claim);
  }
  events::event flow_event(events::kind what, const relay::flow_key&, const relay::flow_record&) const override {
    events::event e;
    e.what = what;
    return e;
  }
  void report(events::event e, const relay::flow_key&, bool) override {
    std::lock_guard lock(mu);
    reported.push_back(std::move(e));
  }
  relay::tap_writer& tap() override { return writer_; }
  void icmp_error_to_child(const relay::flow_key&, const relay::icmp_report&, std::span<const std::byte>) override {
    std::lock_guard lock(mu);
    ++icmp_errors;
  }

  std::mutex mu;
  int judged = 0, icmp_errors = 0;
  std::vector<sniff::claim> claims;  // what judge_claim was asked, in order
  std::vector<std::chrono::steady_clock::time_point> claim_judged_at;
  std::vector<relay::flow_record> opened_records, closed_records, claimed_records;
  std::vector<policy::decision> denials;
  std::vector<sniff::claim> denied_claims;  // the claims of denials on a claim
  std::vector<events::event> reported;

 private:
  relay::tap_writer writer_;
};

inline packet::ip_address v4(std::array<std::uint8_t, 4> b) {
  packet::ip_address a;
  std::copy(b.begin(), b.end(), a.bytes.begin());
  return a;
}

// One test: an io_context on its own thread, the tap socketpair, a context.
struct rig {
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work{io.get_executor()};
  std::thread runner;
  int tap[2] = {-1, -1};
  std::unique_ptr<test_context> ctx;
  relay::packet_pool pool;
  std::shared_ptr<relay::tcp_flow> flow;
  bool done = false;
  std::mutex done_mu;

  rig() {
    REQUIRE(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, tap) == 0);
    ctx = std::make_unique<test_context>(tap[0]);
    ctx->settings_.connect_timeout = 2s;
    runner = std::thread([this] { io.run(); });
  }
  ~rig() {
    if (flow) flow->shutdown();
    std::this_thread::sleep_for(50ms);
    work.reset();
    io.stop();
    runner.join();
    flow.reset();
    ::close(tap[0]);
    ::close(tap[1]);
  }

  relay::flow_key key_to(packet::ip_address dst, std::uint16_t port) {
    relay::flow_key k;
    k.protocol = packet::proto_tcp;
    k.src = v4({10, 248, 0, 2});
    k.dst = dst;
    k.src_port = 40000;
    k.dst_port = port;
    return k;
  }

  void start(const relay::flow_key& key, const tcp::config& cfg = tcp::config{}) {
    tcp::segment_in syn;
    syn.seq = child_isn;
    syn.flags = flag::syn;
    syn.window = 65535;
    syn.mss = 1460;
    const std::array<std::byte, 40> syn_packet{};
    flow = std::make_shared<relay::tcp_flow>(*ctx, asio::make_strand(io.get_executor()), key, syn, syn_packet, 64,
                                             our_isn, cfg,
                                             [this](const relay::flow_key&, std::shared_ptr<relay::tcp_flow>) {
                                               std::lock_guard lock(done_mu);
                                               done = true;
                                             });
    flow->start();
  }

  // A segment from the child; the payload is copied into a pool buffer
  // that travels with it, as the engine's tap reads do.
  void send(std::uint32_t seq, std::uint32_t ack, std::uint8_t flags, std::string_view data = {}) {
    auto buf = pool.get();
    std::memcpy(buf.whole().data(), data.data(), data.size());
    buf.set_size(data.size());
    tcp::segment_in s;
    s.seq = seq;
    s.ack = ack;
    s.flags = flags;
    s.window = 65535;
    s.payload = buf.bytes();
    flow->deliver(std::move(buf), s);
    flow->end_of_batch();
  }

  // The next frame the flow wrote to the child (TCP header and payload).
  struct seen {
    std::uint32_t seq, ack;
    std::uint8_t flags;
    std::string payload;
    std::uint16_t window = 0;
  };
  std::optional<seen> next_frame(std::chrono::milliseconds wait = 3s) {
    pollfd p{tap[1], POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(wait.count())) != 1) return std::nullopt;
    std::vector<std::byte> buf(70000);
    const ssize_t n = ::recv(tap[1], buf.data(), buf.size(), 0);
    REQUIRE(n > sandbox::tap_vnet_header_size);
    const auto f = packet::parse_frame(std::span<const std::byte>(buf.data() + sandbox::tap_vnet_header_size,
                                                                  static_cast<std::size_t>(n) - sandbox::tap_vnet_header_size));
    REQUIRE(f);
    REQUIRE(f->kind == packet::l4_kind::tcp);
    CHECK(f->tcp.src_port == flow_key_dst_port);
    CHECK(f->tcp.dst_port == 40000);
    return seen{f->tcp.seq, f->tcp.ack, f->tcp.flags,
                std::string(reinterpret_cast<const char*>(f->payload.data()), f->payload.size()), f->tcp.window};
  }
  // Frames until one carries data (pure ACKs skipped), bounded.
  std::optional<seen> next_data_frame() {
    for (int i = 0; i < 10; ++i) {
      auto s = next_frame();
      if (!s || !s->payload.empty() || (s->flags & (flag::fin | flag::rst))) return s;
    }
    return std::nullopt;
  }
  bool finished_within(std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      {
        std::lock_guard lock(done_mu);
        if (done) return true;
      }
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }
  std::uint16_t flow_key_dst_port = 0;
};

// Whether a listener has a connection waiting, within `wait`.
inline bool connection_pending(asio::ip::tcp::acceptor& listener, std::chrono::milliseconds wait) {
  pollfd p{listener.native_handle(), POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(wait.count())) == 1;
}

// Up to n bytes from a socket, bounded by `wait` in all.
inline std::string read_bounded(int fd, std::size_t n, std::chrono::milliseconds wait) {
  std::string got;
  const auto end = std::chrono::steady_clock::now() + wait;
  while (got.size() < n) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) != 1) break;
    std::array<char, 65536> buf{};
    const ssize_t r = ::recv(fd, buf.data(), std::min(buf.size(), n - got.size()), 0);
    if (r <= 0) break;
    got.append(buf.data(), static_cast<std::size_t>(r));
  }
  return got;
}

inline bool socket_sees_eof(int fd, std::chrono::milliseconds wait) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(wait.count())) != 1) return false;
  char c = 0;
  return ::recv(fd, &c, 1, 0) == 0;
}

// The host side behind an HTTP CONNECT "proxy" the test plays on
// 127.0.0.1: the flow's destination itself is never dialled, and the
// listener sees a connection only when the flow was allowed to leave.
struct fake_connect_proxy {
  asio::io_context io;
  asio::ip::tcp::acceptor listener{io, asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0)};
  proxy::proxy_config config;
  asio::ip::tcp::socket tunnel{io};
  std::string leftover;  // tunnel bytes read together with the CONNECT request

  fake_connect_proxy() {
    config.kind = proxy::scheme::http;
    config.host = "127.0.0.1";
    config.port = listener.local_endpoint().port();
    config.endpoints.push_back(listener.local_endpoint());
  }
  // Accepts the flow's connection (false if none comes within `wait`) and
  // answers its CONNECT.
  bool accept_tunnel(std::chrono::milliseconds wait = 3s) {
    if (!connection_pending(listener, wait)) return false;
    listener.accept(tunnel);
    std::string request;
    const std::size_t head = asio::read_until(tunnel, asio::dynamic_buffer(request), "\r\n\r\n");
    leftover = request.substr(head);
    asio::write(tunnel, asio::buffer(std::string_view("HTTP/1.1 200 Connection established\r\n\r\n")));
    return true;
  }
  // n tunnel bytes from the child (fewer if they do not come within `wait`
  // or the tunnel ends).
  std::string read_exactly(std::size_t n, std::chrono::milliseconds wait = 5s) {
    std::string got = leftover.substr(0, n);
    leftover.erase(0, got.size());
    return got + read_bounded(tunnel.native_handle(), n - got.size(), wait);
  }
  // True when the child's side of the tunnel ends (its FIN) within `wait`.
  bool sees_eof(std::chrono::milliseconds wait = 3s) { return socket_sees_eof(tunnel.native_handle(), wait); }
};


}  // namespace relay_test
