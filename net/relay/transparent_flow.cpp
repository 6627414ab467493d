// A TPROXY'd TCP connection under --root (see transparent_flow.hpp).
#include "net/relay/transparent_flow.hpp"

#include <asio/co_spawn.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/post.hpp>
#include <asio/ssl/error.hpp>
#include <asio/write.hpp>

#include <unistd.h>

#include "net/common/asio_helpers.hpp"
#include "net/common/log.hpp"
#include "net/relay/host_connect.hpp"
#include "net/relay/host_socket.hpp"

namespace netpen::relay {
namespace {

constexpr std::size_t splice_buffer = 64 * 1024;

}  // namespace

transparent_flow::transparent_flow(flow_context& ctx, asio::strand<asio::any_io_executor> strand, const flow_key& key)
    : ctx_(ctx), strand_(std::move(strand)), tree_(strand_), stream_(strand_), waiting_(strand_), key_(key) {}

asio::awaitable<bool> transparent_flow::dial() {
  return asio::co_spawn(strand_, [self = shared_from_this()] { return self->open_tunnel(); }, asio::use_awaitable);
}

void transparent_flow::attach(asio::ip::tcp::socket tree, std::vector<std::byte> first) {
  // The socket moves to this flow's strand (it was accepted on another).
  asio::error_code ec;
  const auto protocol = tree.local_endpoint(ec).protocol();
  const int fd = ec ? -1 : tree.release(ec);
  asio::post(strand_, [self = shared_from_this(), protocol, fd, first = std::move(first)]() mutable {
    self->first_ = std::move(first);
    if (fd < 0) return self->reset_both();
    asio::error_code assign_ec;
    self->tree_.assign(protocol, fd, assign_ec);
    if (assign_ec) {
      ::close(fd);
      return self->reset_both();
    }
    if (self->closed_) {  // the tunnel is gone already: refuse the tree's connection
      asio::error_code ignored;
      self->tree_.set_option(asio::socket_base::linger(true, 0), ignored);
      self->tree_.close(ignored);
      return;
    }
    self->waiting_.cancel();
    asio::co_spawn(self->strand_, [self] { return self->splice(self->dialed_); },
                   log_failure("the proxied flow " + to_string(self->key_), [self] { self->shutdown(); }));
  });
}

void transparent_flow::shutdown() {
  asio::post(strand_, [self = shared_from_this()] { self->reset_both(); });
}

void transparent_flow::reset_both() {
  if (closed_) return;
  closed_ = true;
  waiting_.cancel();
  asio::error_code ignored;
  if (tree_.is_open()) tree_.set_option(asio::socket_base::linger(true, 0), ignored);
  tree_.close(ignored);
  stream_.close(true);
}

asio::awaitable<bool> transparent_flow::open_tunnel() {
  asio::steady_timer limit(strand_);
  cancel_after(limit, stream_.socket(), ctx_.settings().connect_timeout);
  proxy_dial_outcome dialed = co_await dial_through_proxy(ctx_, stream_, key_, limit, *this);
  limit.cancel();
  if (!dialed.tunnel) {
    if (!dialed.abandoned) {
      log::debug("{}: proxy failed: {}", to_string(key_), dialed.failure);
      auto e = ctx_.flow_event(events::kind::proxy_failed, key_, flow_record{});
      e.name = dialed.name;
      e.reason = dialed.failure;
      e.via = proxy::display(*ctx_.settings().proxy);
      e.end = "refused";
      ctx_.report(std::move(e), key_, false);
    }
    reset_both();
    co_return false;
  }
  log::debug("{}: tunnel open through {}", to_string(key_), proxy::display(*ctx_.settings().proxy));
  early_ = std::move(dialed.early);
  dialed_ = true;
  if (!tree_.is_open()) {  // the gate's dial: the SYN is let go now; it should arrive at once
    waiting_.expires_after(ctx_.settings().connect_timeout);
    waiting_.async_wait([self = shared_from_this()](const asio::error_code& ec) {
      if (!ec && !self->tree_.is_open()) self->reset_both();
    });
  }
  co_return true;
}

asio::awaitable<void> transparent_flow::splice(bool dialed) {
  asio::error_code ignored;
  tree_.set_option(asio::ip::tcp::no_delay(true), ignored);
  if (!dialed) {
    bool open = false;
    if (ctx_.settings().proxy != nullptr)
      open = co_await open_tunnel();
    else
      open = co_await connect_direct();
    if (!open) co_return;
  }
  if (!early_.empty()) {
    auto [ec, n] = co_await asio::async_write(tree_, asio::buffer(early_), use_tuple);
    if (ec) {
      reset_both();
      co_return;
    }
    early_.clear();
  }
  if (!first_.empty()) {  // what the tree sent while its claim was judged
    auto [ec, n] = co_await stream_.write_all(asio::buffer(first_));
    if (ec || closed_) {
      reset_both();
      co_return;
    }
    first_ = {};
  }
  using namespace asio::experimental::awaitable_operators;
  co_await (tree_to_proxy() && proxy_to_tree());
  if (!closed_) {
    closed_ = true;
    tree_.close(ignored);
    stream_.close(false);
  }
}

// The tree's bytes into the tunnel; the tree's FIN as a half-close.
asio::awaitable<void> transparent_flow::tree_to_proxy() {
  std::vector<std::byte> buf(splice_buffer);
  for (;;) {
    auto [rec, n] = co_await tree_.async_read_some(asio::buffer(buf), use_tuple);
    if (closed_) co_return;
    if (rec == asio::error::eof) {
      stream_.shutdown_send();
      co_return;
    }
    if (rec) {
      reset_both();
      co_return;
    }
    auto [wec, written] = co_await stream_.write_all(asio::buffer(buf.data(), n));
    if (closed_) co_return;
    if (wec) {
      reset_both();
      co_return;
    }
  }
}

// The tunnel's bytes to the tree; the remote end's EOF as a FIN.
asio::awaitable<void> transparent_flow::proxy_to_tree() {
  std::vector<std::byte> buf(splice_buffer);
  for (;;) {
    auto [rec, n] = co_await stream_.read_some(asio::buffer(buf));
    if (closed_) co_return;
    if (rec == asio::error::eof || rec == asio::ssl::error::stream_truncated) {
      asio::error_code ignored;
      tree_.shutdown(asio::socket_base::shutdown_send, ignored);
      co_return;
    }
    if (rec) {
      reset_both();
      co_return;
    }
    auto [wec, written] = co_await asio::async_write(tree_, asio::buffer(buf.data(), n), use_tuple);
    if (closed_) co_return;
    if (wec) {
      reset_both();
      co_return;
    }
  }
}

}  // namespace netpen::relay
