// DNS forwarder: carries out each query's decision (local_answer.hpp: drop,
// answer here, refuse, or forward), forwards upstream with retries, serves
// the loopback DNS-over-TCP service, and cancels on stop (see forwarder.hpp).
// GCC 12 reports a false -Wnull-dereference inside Asio's scheduler when it
// inlines it here; the warning is about Asio's code, not ours.
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include "net/dns/forwarder.hpp"

#include <array>
#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/post.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <exception>
#include <mutex>
#include <optional>
#include <random>
#include <variant>

#include "net/common/asio_helpers.hpp"
#include "net/common/log.hpp"
#include "net/dns/local_answer.hpp"
#include "net/dns/upstream_exchange.hpp"
#include "net/dns/work_registry.hpp"

namespace netpen::dns {
namespace {

using namespace asio::experimental::awaitable_operators;
using asio::ip::tcp;

std::uint16_t random_id() {
  thread_local std::mt19937 gen{std::random_device{}()};
  return static_cast<std::uint16_t>(std::uniform_int_distribution<unsigned>(0, 0xffff)(gen));
}

// Upstream replies worth trying another server for.
bool try_next_server(byte_view reply) {
  auto h = parse_header(reply);
  return !h || h->response_code() == rcode::servfail || h->response_code() == rcode::refused;
}

}  // namespace

struct forwarder::state {
  asio::any_io_executor ex;
  std::vector<upstream_server> servers;
  hosts_table overlay;
  forwarder_options opts;
  std::shared_ptr<work_registry> registry = std::make_shared<work_registry>();

  std::mutex mutex;
  std::shared_ptr<const answer_observer> observer;
  std::shared_ptr<const exchange_observer> exchange;
  std::optional<tcp::endpoint> service_endpoint;

  void notify(const std::string& qname, byte_view reply) {
    std::shared_ptr<const answer_observer> cb;
    {
      std::lock_guard lock(mutex);
      cb = observer;
    }
    if (!cb || !*cb) return;
    try {
      (*cb)(qname, extract_answers(reply));
    } catch (const std::exception& e) {
      log::warn("DNS answer observer failed: {}", e.what());
    }
  }

  // Carries out a decision taken without the upstreams: the reply to send
  // (empty: none), the answer observer told of it.
  bytes answer_here(const query_decision& decision, byte_view query) {
    if (const auto* now = std::get_if<answer_now>(&decision)) {
      notify(now->qname, now->reply);
      return now->reply;
    }
    if (const auto* refused = std::get_if<refuse>(&decision)) {
      auto built = make_error_reply(query, refused->code);
      bytes reply = built ? std::move(*built) : bytes{};
      notify(refused->qname, reply);
      return reply;
    }
    return bytes{};  // drop_query
  }

  asio::awaitable<bytes> forward(const parsed_query& q, bytes query, transport t) {
    std::optional<bytes> fallback;  // an upstream SERVFAIL/REFUSED, if that is all we get
    for (int round = 0; round < opts.attempts; ++round) {
      for (const auto& server : servers) {
        if (registry->stopped()) co_return bytes{};
        bytes upstream_query = query;
        set_id(upstream_query, random_id());
        // Two statements, not a conditional expression: GCC 12 coroutines
        // mishandle temporaries (an awaitable chosen by ?:) across co_await.
        asio::any_io_executor strand = asio::make_strand(ex);
        result<bytes> reply = bytes{};
        if (t == transport::udp)
          reply = co_await asio::co_spawn(
              strand, exchange_udp(server, std::move(upstream_query), opts.timeout, registry), asio::use_awaitable);
        else
          reply = co_await asio::co_spawn(
              strand, exchange_tcp(server, std::move(upstream_query), opts.timeout, registry), asio::use_awaitable);
        if (!reply) {
          log::debug("DNS {}: {}", q.q.qname.text, reply.error().message);
          continue;
        }
        set_id(*reply, q.hdr.id);
        if (try_next_server(*reply)) {
          fallback = std::move(*reply);
          continue;
        }
        notify(q.q.qname.text, *reply);
        co_return std::move(*reply);
      }
    }
    if (fallback) co_return std::move(*fallback);
    auto servfail = make_error_reply(query, rcode::servfail);
    co_return servfail ? std::move(*servfail) : bytes{};
  }

  asio::awaitable<bytes> answer(bytes query, transport t) {
    std::shared_ptr<const exchange_observer> cb;
    {
      std::lock_guard lock(mutex);
      cb = exchange;
    }
    if (!cb || !*cb) co_return co_await answer_query(std::move(query), t);
    bytes copy = query;
    bytes reply = co_await answer_query(std::move(query), t);
    try {
      (*cb)(t, copy, reply);
    } catch (const std::exception& e) {
      log::warn("DNS exchange observer failed: {}", e.what());
    }
    co_return reply;
  }

  asio::awaitable<bytes> answer_query(bytes query, transport t) {
    if (registry->stopped()) co_return bytes{};
    const local_names names{.overlay = overlay,
                            .allow_query = opts.allow_query,
                            .synthetic = opts.synthetic.get(),
                            .ttl = opts.overlay_ttl};
    const std::size_t reply_limit = t == transport::udp ? classic_udp_limit : max_message;
    query_decision decision = decide_query(query, reply_limit, names);
    if (auto* upstream = std::get_if<forward_upstream>(&decision))
      co_return co_await forward(upstream->query, std::move(query), t);
    co_return answer_here(decision, query);
  }
};

namespace {

// A cancel hook closing `obj` (socket or acceptor) on its own executor.
template <class T>
std::function<void()> closer(const std::shared_ptr<T>& obj) {
  return [weak = std::weak_ptr<T>(obj), ex = obj->get_executor()] {
    asio::post(ex, [weak] {
      if (auto o = weak.lock()) {
        std::error_code ignored;
        o->close(ignored);
      }
    });
  };
}

template <class Op>
asio::awaitable<bool> within(asio::steady_timer& timer, std::chrono::milliseconds limit, Op op) {
  timer.expires_after(limit);
  auto r = co_await (std::move(op) || timer.async_wait(use_tuple));
  co_return r.index() == 0 && !std::get<0>(std::get<0>(r));
}

asio::awaitable<void> serve_connection(std::shared_ptr<forwarder::state> st, tcp::socket peer,
                                       std::chrono::milliseconds idle) {
  auto sock = std::make_shared<tcp::socket>(std::move(peer));
  auto ticket = st->registry->enroll(closer(sock));
  if (!ticket) co_return;
  asio::steady_timer timer(sock->get_executor());
  for (;;) {
    std::array<std::byte, 2> len{};
    if (!co_await within(timer, idle, asio::async_read(*sock, asio::buffer(len), use_tuple))) break;
    bytes query(static_cast<std::size_t>(std::to_integer<unsigned>(len[0]) << 8 |
                                         std::to_integer<unsigned>(len[1])));
    if (!co_await within(timer, idle, asio::async_read(*sock, asio::buffer(query), use_tuple))) break;
    auto reply = co_await st->answer(std::move(query), transport::tcp);
    if (reply.empty()) break;  // unanswerable: close, the client gives up or retries
    auto framed = frame_for_tcp(reply);
    if (!framed) break;
    if (!co_await within(timer, idle, asio::async_write(*sock, asio::buffer(*framed), use_tuple))) break;
  }
  std::error_code ignored;
  sock->shutdown(tcp::socket::shutdown_both, ignored);
  sock->close(ignored);
}

asio::awaitable<void> accept_loop(std::shared_ptr<forwarder::state> st,
                                  std::shared_ptr<tcp::acceptor> acceptor) {
  auto ticket = st->registry->enroll(closer(acceptor));
  if (!ticket) co_return;
  asio::steady_timer backoff(acceptor->get_executor());
  while (acceptor->is_open()) {
    asio::any_io_executor conn_ex = asio::make_strand(st->ex);
    auto [ec, peer] = co_await acceptor->async_accept(conn_ex, use_tuple);
    if (ec == asio::error::operation_aborted || !acceptor->is_open()) break;
    if (ec) {
      // e.g. out of file descriptors: do not spin.
      log::debug("DNS TCP service: accept failed: {}", ec.message());
      backoff.expires_after(std::chrono::milliseconds(100));
      co_await backoff.async_wait(use_tuple);
      continue;
    }
    asio::co_spawn(conn_ex, serve_connection(st, std::move(peer), st->opts.tcp_idle_timeout),
                   log_failure("DNS TCP connection"));
  }
}

}  // namespace

forwarder::forwarder(asio::any_io_executor ex, std::vector<upstream_server> servers, hosts_table overlay,
                     forwarder_options opts)
    : state_(std::make_shared<state>()) {
  state_->ex = std::move(ex);
  state_->servers = std::move(servers);
  state_->overlay = std::move(overlay);
  if (opts.attempts < 1) opts.attempts = 1;
  state_->opts = opts;
}

forwarder::~forwarder() { stop(); }

asio::awaitable<bytes> forwarder::answer(bytes query, transport t) {
  auto st = state_;  // keeps the state alive for the whole exchange
  co_return co_await st->answer(std::move(query), t);
}

result<tcp::endpoint> forwarder::start_tcp_service() {
  std::lock_guard lock(state_->mutex);
  if (state_->service_endpoint) return *state_->service_endpoint;
  auto ep = listen_tcp(tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  if (ep) state_->service_endpoint = *ep;
  return ep;
}

result<tcp::endpoint> forwarder::serve_tcp_at(const tcp::endpoint& at) {
  std::lock_guard lock(state_->mutex);
  return listen_tcp(at);
}

result<tcp::endpoint> forwarder::listen_tcp(const tcp::endpoint& at) {
  if (state_->registry->stopped()) return fail("dns-stopped", "DNS forwarder stopped");
  auto acceptor = std::make_shared<tcp::acceptor>(asio::make_strand(state_->ex));
  std::error_code ec;
  acceptor->open(at.protocol(), ec);
  if (!ec) acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor->bind(at, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  tcp::endpoint ep;
  if (!ec) ep = acceptor->local_endpoint(ec);
  if (ec)
    return fail("dns-tcp-service",
                fmt::format("cannot listen for DNS over TCP on {}:{}: {}", at.address().to_string(), at.port(), ec.message()));
  auto ex = acceptor->get_executor();
  asio::co_spawn(ex, accept_loop(state_, std::move(acceptor)), log_failure("DNS TCP service"));
  return ep;
}

void forwarder::on_exchange(exchange_observer cb) {
  auto shared = std::make_shared<const exchange_observer>(std::move(cb));
  std::lock_guard lock(state_->mutex);
  state_->exchange = std::move(shared);
}

void forwarder::on_answer(answer_observer cb) {
  auto ptr = cb ? std::make_shared<const answer_observer>(std::move(cb)) : nullptr;
  std::lock_guard lock(state_->mutex);
  state_->observer = std::move(ptr);
}

void forwarder::stop() { state_->registry->stop(); }

}  // namespace netpen::dns
