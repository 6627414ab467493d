// connect(2) of a relayed flow's host socket, done with fewer system calls
// than asio's async_connect: the socket is switched to non-blocking mode
// once, for good (the relay reads and writes it without waiting anyway),
// connect() is called, and a connect in progress is awaited as writability,
// then SO_ERROR is read. Asio's async_connect would set a second,
// internal non-blocking mode (another FIONBIO) and check the outcome with
// an extra poll(): two of the ~30 system calls a short relayed connection
// costs. Cancelling the socket (socket.cancel()) ends the wait with
// operation_aborted, as it would end async_connect.
#pragma once
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>

namespace netpen::relay {

// Arms `limit` to cancel `socket`'s pending operations (a connect, a proxy
// handshake) once `within` has passed; cancel the timer when they are done.
// Both must outlive the wait (they are the caller's own).
void cancel_after(asio::steady_timer& limit, asio::ip::tcp::socket& socket, std::chrono::milliseconds within);

// `socket` must be open in target's protocol.
asio::awaitable<asio::error_code> connect_host(asio::ip::tcp::socket& socket, const asio::ip::tcp::endpoint& target);

}  // namespace netpen::relay
