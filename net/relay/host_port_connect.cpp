// Connecting to the host's loopback for --host-port (see host_port_connect.hpp).
#include "net/relay/host_port_connect.hpp"

#include <cerrno>

#include "net/relay/host_connect.hpp"

namespace netpen::relay {

asio::ip::address host_loopback(bool v6) {
  if (v6) return asio::ip::address_v6::loopback();
  return asio::ip::address_v4::loopback();
}

bool try_other_loopback(const asio::error_code& ec) {
  const int e = ec.value();
  return ec.category() == asio::system_category() &&
         (e == ECONNREFUSED || e == EADDRNOTAVAIL || e == EAFNOSUPPORT || e == ENETUNREACH);
}

asio::awaitable<asio::error_code> connect_host_loopback(asio::ip::tcp::socket& socket, bool v6_first,
                                                        std::uint16_t port) {
  asio::error_code ec;
  for (const bool v6 : {v6_first, !v6_first}) {
    const asio::ip::tcp::endpoint target(host_loopback(v6), port);
    asio::error_code ignored;
    socket.close(ignored);
    socket.open(target.protocol(), ec);
    if (!ec) ec = co_await connect_host(socket, target);
    if (!ec || !try_other_loopback(ec)) break;
  }
  if (ec) {
    asio::error_code ignored;
    socket.close(ignored);
  }
  co_return ec;
}

}  // namespace netpen::relay
