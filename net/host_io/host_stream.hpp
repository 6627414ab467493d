// The host side of a relayed TCP flow: a plain TCP socket, or TLS over it
// when the flow goes through an https:// proxy. The relay reads and writes
// through this one type; socket() is always the TCP socket underneath (for
// options, cancel and close). Use from the flow's strand only. An observer
// set with set_observer() sees the bytes each operation moved on the TCP
// socket (under TLS: the TLS records).
//
// Half-close: shutdown_send() shuts the TCP socket's sending side. Over TLS
// it does nothing: a TLS close_notify ends the whole session for most
// proxies, so the child's FIN waits until the remote side closes.
#pragma once
#include <asio/ip/tcp.hpp>
#include <asio/ssl/stream.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <memory>
#include <tuple>

#include "net/common/asio_helpers.hpp"
#include "net/host_io/observed_socket.hpp"

namespace netpen::host_io {

class host_stream {
 public:
  using tls_stream = asio::ssl::stream<observed_socket>;
  using io_result = std::tuple<asio::error_code, std::size_t>;

  explicit host_stream(const asio::any_io_executor& ex) : plain_(ex) {}

  asio::ip::tcp::socket& socket() { return tls_ ? tls_->next_layer().socket() : plain_.socket(); }
  // Set before the first read or write (it moves under TLS with the socket).
  void set_observer(byte_observer* o) { plain_.set_observer(o); }
  bool is_tls() const { return tls_ != nullptr; }
  // Moves the (connected) socket under a TLS stream; the handshake is the caller's.
  tls_stream& start_tls(asio::ssl::context& ctx) {
    tls_ = std::make_unique<tls_stream>(std::move(plain_), ctx);
    return *tls_;
  }

  template <class Buffers>
  asio::awaitable<io_result> read_some(const Buffers& buffers) {
    if (tls_) return tls_->async_read_some(buffers, use_tuple);
    return plain_.async_read_some(buffers, use_tuple);
  }
  // Plain streams only: completes when the socket has something to read
  // (data, EOF or an error), without handing the socket a buffer, so the
  // caller's buffer need not exist while it waits.
  asio::awaitable<asio::error_code> wait_readable() {
    auto [ec] = co_await plain_.socket().async_wait(asio::socket_base::wait_read, use_tuple);
    co_return ec;
  }
  // Plain streams only: reads what is queued now; would_block when nothing
  // is (the socket is switched to non-blocking mode).
  template <class Buffers>
  io_result read_now(const Buffers& buffers) {
    return now([&](asio::error_code& ec) { return plain_.read_some_now(buffers, ec); });
  }
  // Plain streams only: writes what the send buffer takes now; would_block
  // when it is full.
  template <class Buffers>
  io_result write_now(const Buffers& buffers) {
    return now([&](asio::error_code& ec) { return plain_.write_some_now(buffers, ec); });
  }
  template <class Buffers>
  asio::awaitable<io_result> write_some(const Buffers& buffers) {
    if (tls_) return tls_->async_write_some(buffers, use_tuple);
    return plain_.async_write_some(buffers, use_tuple);
  }
  template <class Buffers>
  asio::awaitable<io_result> write_all(const Buffers& buffers) {
    if (tls_) return asio::async_write(*tls_, buffers, use_tuple);
    return asio::async_write(plain_, buffers, use_tuple);
  }

  void shutdown_send() {
    if (tls_) return;
    asio::error_code ignored;
    plain_.socket().shutdown(asio::socket_base::shutdown_send, ignored);
  }
  // Closes the socket (pending operations end with operation_aborted); with
  // `reset`, an RST goes to the remote instead of a FIN.
  void close(bool reset) {
    auto& s = socket();
    asio::error_code ignored;
    if (reset && s.is_open()) s.set_option(asio::socket_base::linger(true, 0), ignored);
    s.close(ignored);
  }

 private:
  // A read or write that never waits, on the plain socket in non-blocking mode.
  template <class Op>
  io_result now(Op op) {
    asio::error_code ec;
    auto& s = plain_.socket();
    if (!s.non_blocking()) s.non_blocking(true, ec);
    const std::size_t n = ec ? 0 : op(ec);
    return {ec, n};
  }
  observed_socket plain_;
  std::unique_ptr<tls_stream> tls_;
};

}  // namespace netpen::host_io
