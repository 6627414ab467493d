// The relay's connect(2) (see host_connect.hpp).
#include "net/relay/host_connect.hpp"

#include <sys/socket.h>

#include <cerrno>

#include <asio/use_awaitable.hpp>

#include "net/common/asio_helpers.hpp"

namespace netpen::relay {

asio::awaitable<asio::error_code> connect_host(asio::ip::tcp::socket& socket, const asio::ip::tcp::endpoint& target) {
  asio::error_code ec;
  socket.non_blocking(true, ec);
  if (ec) co_return ec;
  if (::connect(socket.native_handle(), target.data(), static_cast<socklen_t>(target.size())) == 0) co_return ec;
  if (errno != EINPROGRESS) co_return asio::error_code(errno, asio::error::get_system_category());
  auto [wec] = co_await socket.async_wait(asio::socket_base::wait_write, use_tuple);
  if (wec) co_return wec;
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(socket.native_handle(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  co_return asio::error_code(err, asio::error::get_system_category());
}

void cancel_after(asio::steady_timer& limit, asio::ip::tcp::socket& socket, std::chrono::milliseconds within) {
  limit.expires_after(within);
  limit.async_wait([&socket](const asio::error_code& ec) {
    if (!ec) {
      asio::error_code ignored;
      socket.cancel(ignored);
    }
  });
}

}  // namespace netpen::relay
