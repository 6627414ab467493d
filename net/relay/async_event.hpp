// A level-triggered wake-up for coroutines that share one strand: waiters
// check their condition, then co_await wait(); notify() wakes all of them.
// Built on a steady_timer that never expires (Asio 1.22 has no condition
// variable for awaitables). Not thread-safe: use from the owning strand.
#pragma once
#include <asio/steady_timer.hpp>

#include "net/common/asio_helpers.hpp"

namespace netpen::relay {

class async_event {
 public:
  explicit async_event(const asio::any_io_executor& ex) : timer_(ex, asio::steady_timer::time_point::max()) {}

  asio::awaitable<void> wait() {
    co_await timer_.async_wait(use_tuple);
  }
  void notify() { timer_.cancel(); }

 private:
  asio::steady_timer timer_;
};

}  // namespace netpen::relay
