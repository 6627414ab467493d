// The few Asio idioms every coroutine in netpen uses, written once:
// `use_tuple` (errors read as values where they are expected, Asio 1.22's
// experimental as_tuple), and the co_spawn completion handler that logs
// what escaped a coroutine instead of losing it.
#pragma once
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>

#include <exception>
#include <string>
#include <utility>

#include "net/common/log.hpp"

namespace netpen {

// `auto [ec, n] = co_await sock.async_read_some(buf, use_tuple);`
inline constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);

// Logs the exception `e` (if any) as "WHAT failed: why" at warning level.
inline void log_coroutine_failure(std::exception_ptr e, const std::string& what) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    log::warn("{} failed: {}", what, ex.what());
  } catch (...) {
    log::warn("{} failed: unknown exception", what);
  }
}

// A co_spawn completion handler: `co_spawn(ex, f(), log_failure("the DNS service"))`.
// `then` (optional) runs afterwards, failed or not.
template <class Then = void (*)()>
auto log_failure(std::string what, Then then = [] {}) {
  return [what = std::move(what), then = std::move(then)](std::exception_ptr e) mutable {
    log_coroutine_failure(e, what);
    then();
  };
}

}  // namespace netpen
