// The host side of every --host-port flow: a connection to the host's own
// loopback at the listed port, and nowhere else. The client's family is
// tried first (127.0.0.1 for an IPv4 client, [::1] for an IPv6 one); when
// nothing listens there (refused) or the host lacks that loopback, the
// other family, so a service bound to one family is reached either way.
#pragma once
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>

#include <cstdint>

namespace netpen::relay {

asio::ip::address host_loopback(bool v6);

// `socket` closed on entry; open and connected (or closed, with the error)
// on return. Cancelling the socket ends a pending attempt.
asio::awaitable<asio::error_code> connect_host_loopback(asio::ip::tcp::socket& socket, bool v6_first,
                                                        std::uint16_t port);

// True when an attempt that failed with `ec` should be tried on the other
// family (refused, the address or family missing). Pure.
bool try_other_loopback(const asio::error_code& ec);

}  // namespace netpen::relay
