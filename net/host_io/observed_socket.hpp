// A TCP socket that tells an observer how many bytes each read and write
// moved, and which: the host side of a relayed flow, under TLS when there
// is TLS, so an observer sees exactly the bytes on the wire (the capture's
// egress point). With no observer it is the plain socket plus one check.
//
// It is an AsyncReadStream / AsyncWriteStream (usable under asio::ssl::stream
// and with asio::async_write). Completion handlers keep their executor,
// allocator and cancellation slot.
#pragma once
#include <asio/associated_allocator.hpp>
#include <asio/associated_cancellation_slot.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/buffer.hpp>
#include <asio/ip/tcp.hpp>

#include <array>
#include <cstddef>
#include <span>
#include <utility>

namespace netpen::host_io {

class byte_observer {
 public:
  virtual ~byte_observer() = default;
  // The first `n` bytes of `buffers` were sent (or received). Called before
  // the operation's own completion handler, on its executor.
  virtual void bytes(bool sent, std::span<const asio::const_buffer> buffers, std::size_t n) = 0;
};

class observed_socket {
 public:
  using next_layer_type = asio::ip::tcp::socket;
  using lowest_layer_type = asio::ip::tcp::socket::lowest_layer_type;
  using executor_type = asio::ip::tcp::socket::executor_type;

  explicit observed_socket(const executor_type& ex) : socket_(ex) {}

  executor_type get_executor() { return socket_.get_executor(); }
  lowest_layer_type& lowest_layer() { return socket_.lowest_layer(); }
  const lowest_layer_type& lowest_layer() const { return socket_.lowest_layer(); }
  asio::ip::tcp::socket& socket() { return socket_; }
  void set_observer(byte_observer* o) { observer_ = o; }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return start<false>(buffers, std::forward<Token>(token));
  }
  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return start<true>(buffers, std::forward<Token>(token));
  }
  // A write that never waits (the socket is non-blocking): would_block
  // when the send buffer is full.
  template <class ConstBuffers>
  std::size_t write_some_now(const ConstBuffers& buffers, asio::error_code& ec) {
    const std::size_t n = socket_.write_some(buffers, ec);
    if (observer_ != nullptr && n > 0) report(*observer_, true, buffers, n);
    return n;
  }
  // A read that never waits (the socket is non-blocking): would_block when
  // nothing is queued.
  template <class MutableBuffers>
  std::size_t read_some_now(const MutableBuffers& buffers, asio::error_code& ec) {
    const std::size_t n = socket_.read_some(buffers, ec);
    if (observer_ != nullptr && n > 0) report(*observer_, false, buffers, n);
    return n;
  }

 private:
  template <class Buffers, class Handler>
  struct completion {
    observed_socket* self;
    bool sent;
    Buffers buffers;
    Handler handler;

    void operator()(const asio::error_code& ec, std::size_t n) {
      if (self->observer_ != nullptr && n > 0) report(*self->observer_, sent, buffers, n);
      std::move(handler)(ec, n);
    }
    using executor_type = asio::associated_executor_t<Handler, observed_socket::executor_type>;
    executor_type get_executor() const noexcept {
      return asio::get_associated_executor(handler, self->socket_.get_executor());
    }
    using allocator_type = asio::associated_allocator_t<Handler>;
    allocator_type get_allocator() const noexcept { return asio::get_associated_allocator(handler); }
    using cancellation_slot_type = asio::associated_cancellation_slot_t<Handler>;
    cancellation_slot_type get_cancellation_slot() const noexcept {
      return asio::get_associated_cancellation_slot(handler);
    }
  };

  template <bool Sent, class Buffers, class Token>
  auto start(const Buffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(asio::error_code, std::size_t)>(
        [this](auto handler, const Buffers& b) {
          using handler_type = std::decay_t<decltype(handler)>;
          completion<Buffers, handler_type> done{this, Sent, b, std::move(handler)};
          if constexpr (Sent)
            socket_.async_write_some(b, std::move(done));
          else
            socket_.async_read_some(b, std::move(done));
        },
        token, buffers);
  }

  // Hands the buffer sequence over as const_buffers, a few at a time.
  template <class Buffers>
  static void report(byte_observer& o, bool sent, const Buffers& buffers, std::size_t n) {
    std::array<asio::const_buffer, 8> batch;
    std::size_t count = 0, batch_bytes = 0;
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers) && n > 0; ++it) {
      const asio::const_buffer b(*it);
      const std::size_t take = std::min(b.size(), n);
      if (take == 0) continue;
      batch[count++] = asio::const_buffer(b.data(), take);
      batch_bytes += take;
      n -= take;
      if (count == batch.size()) {
        o.bytes(sent, std::span(batch.data(), count), batch_bytes);
        count = batch_bytes = 0;
      }
    }
    if (count > 0) o.bytes(sent, std::span(batch.data(), count), batch_bytes);
  }

  asio::ip::tcp::socket socket_;
  byte_observer* observer_ = nullptr;
};

}  // namespace netpen::host_io
