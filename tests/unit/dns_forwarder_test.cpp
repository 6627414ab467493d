// Forwarder tests over real loopback sockets: a fake upstream DNS server
// (UDP and TCP on one port) that answers, stays silent, truncates, fails or
// sends a mismatched reply first; the forwarder's UDP/TCP forwarding,
// timeout -> SERVFAIL, failover, overlay answers, the TCP service, stop().
// Every wait is bounded.
#include <catch2/catch.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>
#include <asio/read.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <asio/write.hpp>
#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>

#include "net/common/asio_helpers.hpp"
#include "net/dns/forwarder.hpp"
#include "tests/unit/dns_test_util.hpp"

using namespace netpen::dns;
using namespace std::chrono_literals;
using asio::ip::make_address;
using asio::ip::tcp;
using asio::ip::udp;

namespace {

using netpen::use_tuple;
const auto fake_address = make_address("192.0.2.1");

using netpen::dns_test::make_query;

enum class mode { answer, silent, truncate, servfail, mismatch_first };

// A fake upstream resolver on 127.0.0.1 serving UDP and TCP on one port.
class fake_upstream {
 public:
  fake_upstream(asio::io_context& ctx, mode m) : mode_(m), udp_(ctx), acceptor_(ctx) {
    for (int i = 0; i < 20; ++i) {
      udp_ = udp::socket(ctx, udp::endpoint(make_address("127.0.0.1"), 0));
      std::error_code ec;
      acceptor_.open(tcp::v4());
      acceptor_.bind(tcp::endpoint(make_address("127.0.0.1"), udp_.local_endpoint().port()), ec);
      if (!ec) break;
      acceptor_.close();
    }
    acceptor_.listen();
    asio::co_spawn(ctx, serve_udp(), asio::detached);
    asio::co_spawn(ctx, serve_tcp(), asio::detached);
  }

  upstream_server server() const { return {make_address("127.0.0.1"), udp_.local_endpoint().port()}; }
  std::atomic<int> udp_queries{0};
  std::atomic<int> tcp_queries{0};

 private:
  bytes reply_to(const bytes& q) {
    if (mode_ == mode::servfail) return *make_error_reply(q, rcode::servfail);
    if (mode_ == mode::truncate) {
      auto r = *make_error_reply(q, rcode::noerror);
      r[2] |= std::byte{0x02};
      return r;
    }
    auto r = make_address_reply(q, {fake_address}, 300);
    return r ? *r : *make_error_reply(q, rcode::noerror);  // other types: NODATA
  }

  asio::awaitable<void> serve_udp() {
    bytes buf(65535);
    for (;;) {
      udp::endpoint from;
      auto [ec, n] = co_await udp_.async_receive_from(asio::buffer(buf), from, use_tuple);
      if (ec) co_return;
      ++udp_queries;
      if (mode_ == mode::silent) continue;
      const bytes q(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
      if (mode_ == mode::mismatch_first) {
        bytes wrong = reply_to(q);
        set_id(wrong, static_cast<std::uint16_t>(parse_header(q)->id + 1));
        co_await udp_.async_send_to(asio::buffer(wrong), from, use_tuple);
      }
      const bytes reply = reply_to(q);
      co_await udp_.async_send_to(asio::buffer(reply), from, use_tuple);
    }
  }

  asio::awaitable<void> serve_tcp() {
    for (;;) {
      auto [ec, sock] = co_await acceptor_.async_accept(use_tuple);
      if (ec) co_return;
      std::array<std::byte, 2> len{};
      auto [lec, ln] = co_await asio::async_read(sock, asio::buffer(len), use_tuple);
      if (lec) continue;
      bytes q(std::to_integer<std::size_t>(len[0]) << 8 | std::to_integer<std::size_t>(len[1]));
      auto [qec, qn] = co_await asio::async_read(sock, asio::buffer(q), use_tuple);
      if (qec) continue;
      ++tcp_queries;
      if (mode_ == mode::silent) {
        held_.push_back(std::move(sock));  // keep it open, never answer
        continue;
      }
      const bytes framed = *frame_for_tcp(reply_to(q));
      co_await asio::async_write(sock, asio::buffer(framed), use_tuple);
    }
  }

  mode mode_;
  udp::socket udp_;
  tcp::acceptor acceptor_;
  std::vector<tcp::socket> held_;  // used by serve_tcp only
};

// Runs the io_context on two threads; declare it after everything that
// uses the context so it stops and joins first.
struct pool {
  explicit pool(asio::io_context& c) : ctx(c), guard(c.get_executor()) {
    for (auto& t : threads) t = std::thread([this] { ctx.run(); });
  }
  ~pool() {
    ctx.stop();
    for (auto& t : threads) t.join();
  }
  asio::io_context& ctx;
  asio::executor_work_guard<asio::io_context::executor_type> guard;
  std::array<std::thread, 2> threads;
};

template <class T>
T wait(asio::io_context& ctx, asio::awaitable<T> a) {
  auto f = asio::co_spawn(ctx, std::move(a), asio::use_future);
  REQUIRE(f.wait_for(10s) == std::future_status::ready);
  return f.get();
}

forwarder_options fast() { return {.timeout = 150ms, .attempts = 2}; }

// A client of the forwarder's TCP service: sends all queries at once
// (pipelined), then reads one reply per query.
asio::awaitable<std::vector<bytes>> tcp_client(tcp::endpoint ep, std::vector<bytes> queries) {
  tcp::socket sock(co_await asio::this_coro::executor);
  co_await sock.async_connect(ep, asio::use_awaitable);
  bytes out;
  for (const auto& q : queries) {
    auto f = *frame_for_tcp(q);
    out.insert(out.end(), f.begin(), f.end());
  }
  co_await asio::async_write(sock, asio::buffer(out), asio::use_awaitable);
  std::vector<bytes> replies;
  for (std::size_t i = 0; i < queries.size(); ++i) {
    std::array<std::byte, 2> len{};
    auto [ec, n] = co_await asio::async_read(sock, asio::buffer(len), use_tuple);
    if (ec) break;
    bytes r(std::to_integer<std::size_t>(len[0]) << 8 | std::to_integer<std::size_t>(len[1]));
    co_await asio::async_read(sock, asio::buffer(r), asio::use_awaitable);
    replies.push_back(std::move(r));
  }
  co_return replies;
}

rcode code_of(const bytes& r) { return parse_header(r)->response_code(); }

}  // namespace

TEST_CASE("forwarder forwards over UDP and restores the id", "[dns]") {
  asio::io_context ctx;
  fake_upstream up(ctx, mode::answer);
  forwarder fwd(ctx.get_executor(), {up.server()}, {}, fast());
  std::mutex m;
  std::vector<std::string> seen;
  fwd.on_answer([&](const std::string& name, const std::vector<answer_record>& recs) {
    std::lock_guard lock(m);
    seen.push_back(name + "=" + (recs.empty() ? "" : recs[0].address.to_string()));
  });
  pool p(ctx);
  const auto reply = wait(ctx, fwd.answer(make_query(0x4242, "www.example.test"), transport::udp));
  REQUIRE_FALSE(reply.empty());
  CHECK(parse_header(reply)->id == 0x4242);
  CHECK(code_of(reply) == rcode::noerror);
  const auto recs = extract_answers(reply);
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].address == fake_address);
  CHECK(up.udp_queries == 1);
  CHECK(up.tcp_queries == 0);
  std::lock_guard lock(m);
  CHECK(seen == std::vector<std::string>{"www.example.test=192.0.2.1"});
}

TEST_CASE("forwarder uses TCP upstream for TCP queries", "[dns]") {
  asio::io_context ctx;
  fake_upstream up(ctx, mode::answer);
  forwarder fwd(ctx.get_executor(), {up.server()}, {}, fast());
  pool p(ctx);
  const auto reply = wait(ctx, fwd.answer(make_query(7, "tcp.example.test"), transport::tcp));
  REQUIRE_FALSE(reply.empty());
  CHECK(parse_header(reply)->id == 7);
  CHECK(extract_answers(reply).size() == 1);
  CHECK(up.tcp_queries == 1);
  CHECK(up.udp_queries == 0);
}

TEST_CASE("forwarder ignores a reply with the wrong id", "[dns]") {
  asio::io_context ctx;
  fake_upstream up(ctx, mode::mismatch_first);
  forwarder fwd(ctx.get_executor(), {up.server()}, {}, fast());
  pool p(ctx);
  const auto reply = wait(ctx, fwd.answer(make_query(9, "a.test"), transport::udp));
  REQUIRE_FALSE(reply.empty());
  CHECK(parse_header(reply)->id == 9);
  CHECK(extract_answers(reply).size() == 1);
  CHECK(up.udp_queries == 1);
}

TEST_CASE("silent upstream times out into SERVFAIL after the retries", "[dns]") {
  asio::io_context ctx;
  fake_upstream up(ctx, mode::silent);
  forwarder fwd(ctx.get_executor(), {up.server()}, {}, fast());
  pool p(ctx);
  const auto start = std::chrono::steady_clock::now();
  const auto reply = wait(ctx, fwd.answer(make_query(11, "slow.test"), transport::udp));
  const auto took = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(reply.empty());
  CHECK(parse_header(reply)->id == 11);
  CHECK(code_of(reply) == rcode::servfail);
  CHECK(up.udp_queries == 2);
  CHECK(took >= 250ms);
  CHECK(took < 3s);
  const auto tcp_reply = wait(ctx, fwd.answer(make_query(12, "slow.test"), transport::tcp));
  CHECK(code_of(tcp_reply) == rcode::servfail);
}

TEST_CASE("forwarder fails over to the next server", "[dns]") {
  asio::io_context ctx;
  fake_upstream silent(ctx, mode::silent);
  fake_upstream failing(ctx, mode::servfail);
  fake_upstream good(ctx, mode::answer);
  forwarder fwd(ctx.get_executor(), {silent.server(), failing.server(), good.server()}, {}, fast());
  pool p(ctx);
  const auto reply = wait(ctx, fwd.answer(make_query(13, "x.test"), transport::udp));
  CHECK(code_of(reply) == rcode::noerror);
  CHECK(extract_answers(reply).size() == 1);
  CHECK(silent.udp_queries == 1);
  CHECK(failing.udp_queries == 1);
  CHECK(good.udp_queries == 1);
}

TEST_CASE("an upstream SERVFAIL is passed on when nothing better comes", "[dns]") {
  asio::io_context ctx;
  fake_upstream failing(ctx, mode::servfail);
  forwarder fwd(ctx.get_executor(), {failing.server()}, {}, fast());
  pool p(ctx);
  const auto reply = wait(ctx, fwd.answer(make_query(14, "x.test"), transport::udp));
  CHECK(parse_header(reply)->id == 14);
  CHECK(code_of(reply) == rcode::servfail);
  CHECK(failing.udp_queries == 2);
}

TEST_CASE("a truncated UDP answer is passed back as is", "[dns]") {
  asio::io_context ctx;
  fake_upstream up(ctx, mode::truncate);
  forwarder fwd(ctx.get_executor(), {up.server()}, {}, fast());
  pool p(ctx);
  const auto q = make_query(15, "big.test");
  const auto reply = wait(ctx, fwd.answer(q, transport::udp));
  REQUIRE_FALSE(reply.empty());
  CHECK(parse_header(reply)->truncated());
  CHECK(reply == *[&] {
    auto r = make_error_reply(q, rcode::noerror);
    (*r)[2] |= std::byte{0x02};
    return r;
  }());
  CHECK(up.udp_queries == 1);
}

TEST_CASE("overlay names are answered without the upstream", "[dns]") {
  asio::io_context ctx;
  fake_upstream up(ctx, mode::answer);
  hosts_table overlay;
  overlay.add(make_address("10.1.2.3"), {"Api.Test"});
  overlay.add(make_address("fd00::5"), {"v6.test"});
  forwarder fwd(ctx.get_executor(), {up.server()}, overlay, fast());
  std::atomic<int> observed{0};
  fwd.on_answer([&](const std::string&, const std::vector<answer_record>&) { ++observed; });
  pool p(ctx);
  const auto a = wait(ctx, fwd.answer(make_query(16, "api.test"), transport::udp));
  const auto recs = extract_answers(a);
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].address == make_address("10.1.2.3"));
  const auto nodata = wait(ctx, fwd.answer(make_query(17, "API.test", type_aaaa), transport::udp));
  CHECK(code_of(nodata) == rcode::noerror);
  CHECK(parse_header(nodata)->ancount == 0);
  const auto v6 = wait(ctx, fwd.answer(make_query(18, "v6.test", type_aaaa), transport::tcp));
  REQUIRE(extract_answers(v6).size() == 1);
  CHECK(extract_answers(v6)[0].address == make_address("fd00::5"));
  CHECK(up.udp_queries == 0);
  CHECK(up.tcp_queries == 0);
  CHECK(observed == 3);
  // Other types for an overlay name still go upstream.
  const auto mx = wait(ctx, fwd.answer(make_query(19, "api.test", 15), transport::udp));
  CHECK(up.udp_queries == 1);
  CHECK(parse_header(mx)->id == 19);
}

TEST_CASE("unparseable queries and responses are dropped", "[dns]") {
  asio::io_context ctx;
  fake_upstream up(ctx, mode::answer);
  forwarder fwd(ctx.get_executor(), {up.server()}, {}, fast());
  pool p(ctx);
  CHECK(wait(ctx, fwd.answer(bytes{std::byte{1}, std::byte{2}}, transport::udp)).empty());
  auto q = make_query(20, "x.test");
  q.pop_back();  // cut the last byte of the question
  CHECK(wait(ctx, fwd.answer(q, transport::udp)).empty());
  auto response = *make_error_reply(make_query(21, "x.test"), rcode::noerror);
  CHECK(wait(ctx, fwd.answer(response, transport::udp)).empty());
  CHECK(up.udp_queries == 0);
}

TEST_CASE("no upstream servers means SERVFAIL", "[dns]") {
  asio::io_context ctx;
  forwarder fwd(ctx.get_executor(), {}, {}, fast());
  pool p(ctx);
  const auto reply = wait(ctx, fwd.answer(make_query(22, "x.test"), transport::udp));
  CHECK(code_of(reply) == rcode::servfail);
}

TEST_CASE("TCP service answers pipelined queries on one connection", "[dns]") {
  asio::io_context ctx;
  fake_upstream up(ctx, mode::answer);
  hosts_table overlay;
  overlay.add(make_address("10.9.8.7"), {"local.test"});
  forwarder fwd(ctx.get_executor(), {up.server()}, overlay, fast());
  pool p(ctx);
  const auto ep = fwd.start_tcp_service();
  REQUIRE(ep);
  CHECK(ep->address() == make_address("127.0.0.1"));
  CHECK(ep->port() != 0);
  CHECK(fwd.start_tcp_service().value() == *ep);
  const auto replies =
      wait(ctx, tcp_client(*ep, {make_query(30, "remote.test"), make_query(31, "local.test"),
                                 make_query(32, "remote2.test")}));
  REQUIRE(replies.size() == 3);
  CHECK(parse_header(replies[0])->id == 30);
  CHECK(extract_answers(replies[0]).at(0).address == fake_address);
  CHECK(parse_header(replies[1])->id == 31);
  CHECK(extract_answers(replies[1]).at(0).address == make_address("10.9.8.7"));
  CHECK(parse_header(replies[2])->id == 32);
  CHECK(up.tcp_queries == 2);
}

TEST_CASE("TCP service closes on an unparseable query", "[dns]") {
  asio::io_context ctx;
  fake_upstream up(ctx, mode::answer);
  forwarder fwd(ctx.get_executor(), {up.server()}, {}, fast());
  pool p(ctx);
  const auto ep = fwd.start_tcp_service();
  REQUIRE(ep);
  const auto replies = wait(ctx, tcp_client(*ep, {bytes{std::byte{0}}, make_query(33, "x.test")}));
  CHECK(replies.empty());
}

TEST_CASE("stop ends the TCP service and refuses new work", "[dns]") {
  asio::io_context ctx;
  fake_upstream up(ctx, mode::silent);
  forwarder fwd(ctx.get_executor(), {up.server()}, {}, {.timeout = 5s, .attempts = 1});
  pool p(ctx);
  const auto ep = fwd.start_tcp_service();
  REQUIRE(ep);
  // A query stuck on the silent upstream is cancelled by stop().
  auto pending = asio::co_spawn(ctx, tcp_client(*ep, {make_query(40, "x.test")}), asio::use_future);
  for (int i = 0; i < 200 && up.tcp_queries == 0; ++i) std::this_thread::sleep_for(5ms);
  const auto start = std::chrono::steady_clock::now();
  fwd.stop();
  REQUIRE(pending.wait_for(3s) == std::future_status::ready);
  CHECK(std::chrono::steady_clock::now() - start < 3s);
  CHECK(wait(ctx, fwd.answer(make_query(41, "x.test"), transport::udp)).empty());
  // The listener is closed: connecting fails or the connection yields nothing.
  auto after = asio::co_spawn(ctx, tcp_client(*ep, {make_query(42, "x.test")}), asio::use_future);
  REQUIRE(after.wait_for(3s) == std::future_status::ready);
  bool closed = false;
  try {
    closed = after.get().empty();
  } catch (const std::system_error&) {
    closed = true;  // connection refused
  }
  CHECK(closed);
}

TEST_CASE("synthetic mode answers A from the synthetic range and forwards nothing", "[dns][proxy]") {
  asio::io_context ctx;
  fake_upstream up(ctx, mode::answer);
  hosts_table overlay;
  overlay.add(make_address("10.1.2.3"), {"pinned.test"});
  auto opts = fast();
  opts.synthetic = std::make_shared<synthetic_names>();
  forwarder fwd(ctx.get_executor(), {up.server()}, overlay, opts);
  pool p(ctx);
  const auto a = wait(ctx, fwd.answer(make_query(21, "Web.Example"), transport::udp));
  auto recs = extract_answers(a);
  REQUIRE(recs.size() == 1);
  CHECK(synthetic_names::in_range(recs[0].address));
  CHECK(opts.synthetic->name_for(recs[0].address) == "web.example");
  // The same name keeps its address, over TCP too.
  const auto again = wait(ctx, fwd.answer(make_query(22, "WEB.example"), transport::tcp));
  REQUIRE(extract_answers(again).size() == 1);
  CHECK(extract_answers(again)[0].address == recs[0].address);
  // AAAA and other types: NODATA, so clients fall back to IPv4.
  for (std::uint16_t t : {type_aaaa, std::uint16_t{15}, std::uint16_t{16}}) {
    const auto r = wait(ctx, fwd.answer(make_query(23, "web.example", t), transport::udp));
    CHECK(code_of(r) == rcode::noerror);
    CHECK(parse_header(r)->ancount == 0);
    CHECK(parse_header(r)->id == 23);
  }
  // Overlay names keep their real address.
  const auto pinned = wait(ctx, fwd.answer(make_query(24, "pinned.test"), transport::udp));
  REQUIRE(extract_answers(pinned).size() == 1);
  CHECK(extract_answers(pinned)[0].address == make_address("10.1.2.3"));
  CHECK(up.udp_queries == 0);
  CHECK(up.tcp_queries == 0);
}

TEST_CASE("a refused name gets NXDOMAIN at once, overlay names too, others are forwarded", "[dns][policy]") {
  asio::io_context ctx;
  fake_upstream up(ctx, mode::answer);
  hosts_table overlay;
  overlay.add(make_address("10.1.2.3"), {"pinned.test"});
  auto opts = fast();
  std::vector<std::string> asked;
  std::mutex asked_mutex;
  opts.allow_query = [&](const std::string& name, std::uint16_t) {
    const std::lock_guard lock(asked_mutex);
    asked.push_back(name);
    return name != "evil.test" && name != "pinned.test";
  };
  forwarder fwd(ctx.get_executor(), {up.server()}, overlay, opts);
  pool p(ctx);
  for (const auto t : {transport::udp, transport::tcp}) {
    const auto refused = wait(ctx, fwd.answer(make_query(30, "evil.test"), t));
    CHECK(code_of(refused) == rcode::nxdomain);
    CHECK(parse_header(refused)->id == 30);
  }
  CHECK(code_of(wait(ctx, fwd.answer(make_query(31, "pinned.test"), transport::udp))) == rcode::nxdomain);
  CHECK(up.udp_queries == 0);
  CHECK(up.tcp_queries == 0);
  const auto ok = wait(ctx, fwd.answer(make_query(32, "good.test"), transport::udp));
  CHECK(code_of(ok) == rcode::noerror);
  CHECK(up.udp_queries == 1);
  CHECK(asked == std::vector<std::string>{"evil.test", "evil.test", "pinned.test", "good.test"});
}
