// [relay] A tcp_flow driven through a test flow_context: the only seam a flow
// has to the relay. The child's side is scripted segments; what the flow
// sends the child comes back through a tap_writer on a socketpair; the host
// side is a loopback listener, reached through the DNS route (port 53 on any
// address goes to settings().dns_tcp), so nothing leaves the machine. A
// denied flow never connects at all.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/strand.hpp>
#include <asio/write.hpp>
#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "net/common/sandbox_addresses.hpp"
#include "net/packet/frame.hpp"
#include "net/relay/flow_context.hpp"
#include "net/relay/packet_pool.hpp"
#include "net/relay/tcp_flow.hpp"

using namespace netpen;
using namespace std::chrono_literals;
namespace flag = packet::tcp_flag;

namespace {

constexpr std::uint32_t child_isn = 5000;
constexpr std::uint32_t our_isn = 9000;

// Everything a flow may ask of the relay, recorded.
class test_context final : public relay::flow_context {
 public:
  explicit test_context(int tap_fd) { writer_.set_fd(tap_fd); }
  relay::flow_settings settings_;
  policy::decision verdict{policy::verdict::allow, "allow-rule", "test rule", {}};

  const relay::flow_settings& settings() const override { return settings_; }
  std::optional<std::string> name_for(const packet::ip_address&) const override { return std::nullopt; }
  bool is_synthetic(const packet::ip_address&) const override { return false; }
  asio::awaitable<policy::decision> judge(const relay::flow_key&) override {
    std::lock_guard lock(mu);
    ++judged;
    co_return verdict;
  }
  bool judged_by_claim(const relay::flow_key&) const override { return false; }
  asio::awaitable<policy::decision> judge_claim(const relay::flow_key& key, const sniff::claim&) override {
    co_return co_await judge(key);
  }
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
  std::vector<relay::flow_record> opened_records, closed_records, claimed_records;
  std::vector<policy::decision> denials;
  std::vector<sniff::claim> denied_claims;  // the claims of denials on a claim
  std::vector<events::event> reported;

 private:
  relay::tap_writer writer_;
};

packet::ip_address v4(std::array<std::uint8_t, 4> b) {
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

  void start(const relay::flow_key& key) {
    tcp::segment_in syn;
    syn.seq = child_isn;
    syn.flags = flag::syn;
    syn.window = 65535;
    syn.mss = 1460;
    const std::array<std::byte, 40> syn_packet{};
    flow = std::make_shared<relay::tcp_flow>(*ctx, asio::make_strand(io.get_executor()), key, syn, syn_packet, 64,
                                             our_isn, tcp::config{},
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
                std::string(reinterpret_cast<const char*>(f->payload.data()), f->payload.size())};
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

}  // namespace

TEST_CASE("tcp_flow: a denied flow is reset at once, says why, and never connects", "[relay][tcp_flow]") {
  rig r;
  r.ctx->verdict = policy::decision{policy::verdict::deny, "deny-rule", "203.0.113.10 (--deny)", {}};
  r.flow_key_dst_port = 80;
  r.start(r.key_to(v4({203, 0, 113, 10}), 80));  // judged before any connect: nothing is sent there
  const auto rst = r.next_frame();
  REQUIRE(rst);
  CHECK((rst->flags & flag::rst) != 0);
  CHECK(rst->ack == child_isn + 1);
  REQUIRE(r.finished_within(2s));
  std::lock_guard lock(r.ctx->mu);
  CHECK(r.ctx->judged == 1);
  REQUIRE(r.ctx->denials.size() == 1);
  CHECK(r.ctx->denials[0].reason == "deny-rule");
  CHECK(r.ctx->opened_records.empty());  // no flow_open for a denied flow
  REQUIRE(r.ctx->closed_records.size() == 1);
  CHECK_FALSE(r.ctx->closed_records[0].announced);  // so no flow_close either
}

TEST_CASE("tcp_flow: the host connect comes before the SYN-ACK, then bytes flow both ways", "[relay][tcp_flow]") {
  rig r;
  asio::io_context server_io;
  asio::ip::tcp::acceptor listener(server_io, asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  r.ctx->settings_.dns_tcp = listener.local_endpoint();
  r.flow_key_dst_port = 53;
  r.start(r.key_to(v4({10, 248, 0, 1}), 53));  // port 53: the DNS service, never judged

  asio::ip::tcp::socket server(server_io);
  listener.accept(server);  // the host side connects first
  const auto syn_ack = r.next_frame();
  REQUIRE(syn_ack);
  CHECK(syn_ack->flags == (flag::syn | flag::ack));
  CHECK(syn_ack->seq == our_isn);
  CHECK(syn_ack->ack == child_isn + 1);

  r.send(child_isn + 1, our_isn + 1, flag::ack | flag::psh, "ping");
  std::array<char, 4> got{};
  asio::read(server, asio::buffer(got));
  CHECK(std::string(got.data(), 4) == "ping");

  asio::write(server, asio::buffer(std::string_view("pong!")));
  const auto data = r.next_data_frame();
  REQUIRE(data);
  CHECK(data->payload == "pong!");
  CHECK(data->seq == our_isn + 1);

  // The remote closes: our FIN follows its data; the child closes too.
  server.shutdown(asio::ip::tcp::socket::shutdown_send);
  const auto fin = r.next_data_frame();
  REQUIRE(fin);
  CHECK((fin->flags & flag::fin) != 0);
  r.send(child_isn + 5, our_isn + 7, flag::ack | flag::fin);
  asio::error_code ec;
  std::array<char, 1> eof{};
  server.read_some(asio::buffer(eof), ec);
  CHECK(ec == asio::error::eof);  // the child's FIN became the host socket's half-close
  std::lock_guard lock(r.ctx->mu);
  CHECK(r.ctx->judged == 0);
  REQUIRE(r.ctx->opened_records.size() == 1);
}

TEST_CASE("tcp_flow: a refused host connect is a reset to the child and a `refused` end", "[relay][tcp_flow]") {
  rig r;
  asio::io_context server_io;
  asio::ip::tcp::endpoint closed;
  {
    asio::ip::tcp::acceptor probe(server_io, asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    closed = probe.local_endpoint();  // bound, then closed without listening
  }
  r.ctx->settings_.dns_tcp = closed;
  r.flow_key_dst_port = 53;
  r.start(r.key_to(v4({10, 248, 0, 1}), 53));
  const auto rst = r.next_frame();
  REQUIRE(rst);
  CHECK((rst->flags & flag::rst) != 0);
  REQUIRE(r.finished_within(2s));
  std::lock_guard lock(r.ctx->mu);
  REQUIRE(r.ctx->closed_records.size() == 1);
  CHECK(r.ctx->closed_records[0].end == "refused");
  CHECK(r.ctx->icmp_errors == 0);  // a refused connect is TCP's own answer
}
