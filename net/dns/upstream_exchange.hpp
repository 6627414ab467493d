// One query/answer exchange with one upstream resolver, over UDP or TCP, on
// a fresh socket, bounded by a timeout and cancellable through the
// forwarder's work registry. Only a reply matching the query (id, QR,
// question) is accepted; anything else on the UDP socket is ignored.
#pragma once
#include <asio/awaitable.hpp>

#include <chrono>
#include <memory>

#include "net/common/error.hpp"
#include "net/dns/message.hpp"
#include "net/dns/upstream.hpp"
#include "net/dns/work_registry.hpp"

namespace netpen::dns {

// Run these on a strand of their own (the registry's cancel hook posts a
// close() to the coroutine's executor).
asio::awaitable<result<bytes>> exchange_udp(upstream_server server, bytes query,
                                            std::chrono::milliseconds timeout,
                                            std::shared_ptr<work_registry> registry);
asio::awaitable<result<bytes>> exchange_tcp(upstream_server server, bytes query,
                                            std::chrono::milliseconds timeout,
                                            std::shared_ptr<work_registry> registry);

// Whether `reply` answers `query`: same id, QR set, and the same first
// question (name case-insensitively, type, class) unless the reply carries
// no question at all.
bool reply_matches(byte_view query, byte_view reply);

}  // namespace netpen::dns
