// See socket_datagrams.hpp.
#include "net/relay/socket_datagrams.hpp"

#include <asio/co_spawn.hpp>
#include <asio/post.hpp>
#include <unistd.h>

#include <vector>

#include "net/common/asio_helpers.hpp"
#include "net/relay/host_socket.hpp"

namespace netpen::relay {
namespace {
constexpr std::size_t max_datagram = 65535;
}

socket_datagrams::socket_datagrams(asio::io_context& ctx, asio::ip::udp::endpoint target,
                                   inbound_connector::reply_fn reply, std::function<void()> refused)
    : strand_(asio::make_strand(ctx.get_executor())),
      socket_(strand_),
      target_(target),
      reply_(std::move(reply)),
      refused_(std::move(refused)) {}

bool socket_datagrams::open(int fd) {
  asio::error_code ec;
  if (fd >= 0) {
    socket_.assign(target_.protocol(), fd, ec);
    if (ec) ::close(fd);
  } else {
    socket_.open(target_.protocol(), ec);
  }
  if (!ec) socket_.non_blocking(true, ec);
  if (!ec) socket_.connect(target_, ec);
  if (ec) {
    asio::error_code ignored;
    socket_.close(ignored);
    return false;
  }
  const auto local = socket_.local_endpoint(ec);
  key_.protocol = packet::proto_udp;
  key_.src = from_asio(target_.address());
  key_.src_port = target_.port();
  key_.dst = from_asio(local.address());
  key_.dst_port = local.port();
  asio::co_spawn(strand_, [self = shared_from_this()] { return self->receive(); }, log_failure("an inbound UDP flow"));
  return true;
}

void socket_datagrams::send(std::span<const std::byte> payload) {
  asio::error_code ignored;  // a full send buffer drops the datagram, as a router would
  socket_.send(asio::buffer(payload.data(), payload.size()), 0, ignored);
}

void socket_datagrams::close() {
  asio::post(strand_, [self = shared_from_this()] {
    asio::error_code ignored;
    self->socket_.close(ignored);
  });
}

asio::awaitable<void> socket_datagrams::receive() {
  std::vector<std::byte> buf(max_datagram);
  for (;;) {
    auto [ec, n] = co_await socket_.async_receive(asio::buffer(buf), use_tuple);
    if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor || !socket_.is_open()) co_return;
    if (ec == asio::error::connection_refused) {
      if (refused_) refused_();  // the server's port is closed (ICMP)
      continue;
    }
    if (ec) continue;
    reply_(std::vector<std::byte>(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n)));
  }
}

}  // namespace netpen::relay
