// A TCP flow's host socket reported to the capture's egress points (see
// egress_observer.hpp). With an egress observer the socket is bound to an
// ephemeral port before it connects, so the port is known (and can be
// filtered on) before the SYN leaves; the bytes come from the host stream's
// observed socket, under TLS when there is TLS.
#include <asio/ip/udp.hpp>

#include "net/relay/host_socket.hpp"
#include "net/relay/tcp_flow.hpp"

namespace netpen::relay {
namespace {

// The source address the host would use toward `remote` (a route lookup
// through a connected UDP socket: no packet is sent); unspecified if none.
packet::ip_address source_toward(const asio::ip::tcp::endpoint& remote, const asio::any_io_executor& ex) {
  asio::ip::udp::socket probe(ex);
  asio::error_code ec;
  probe.open(remote.protocol() == asio::ip::tcp::v4() ? asio::ip::udp::v4() : asio::ip::udp::v6(), ec);
  if (!ec) probe.connect(asio::ip::udp::endpoint(remote.address(), remote.port()), ec);
  const auto local = ec ? asio::ip::udp::endpoint() : probe.local_endpoint(ec);
  packet::ip_address out = from_asio(local.address());
  out.v6 = remote.address().is_v6();
  return out;
}

}  // namespace

void tcp_flow::egress_opening(const asio::ip::tcp::endpoint& target) {
  egress_observer* egress = ctx_.settings().egress;
  if (egress == nullptr) return;
  auto& socket = stream_.socket();
  asio::error_code ec;
  socket.bind(asio::ip::tcp::endpoint(target.protocol(), 0), ec);
  const auto local = ec ? asio::ip::tcp::endpoint() : socket.local_endpoint(ec);
  if (ec) return;  // connect reports a socket that cannot work; unseen by egress
  conn_ = host_conn{};
  conn_.protocol = packet::proto_tcp;
  conn_.local.v6 = target.address().is_v6();
  conn_.local_port = local.port();
  conn_.remote = from_asio(target.address());
  conn_.remote_port = target.port();
  conn_.child = key_;
  stream_.set_observer(this);
  egress->opened(conn_);
  egress_open_ = true;
}

void tcp_flow::egress_connected() {
  if (!egress_open_) return;
  asio::error_code ec;
  const auto local = stream_.socket().local_endpoint(ec);
  if (!ec) conn_.local = from_asio(local.address());
  ctx_.settings().egress->connected(conn_);
}

void tcp_flow::egress_connect_failed(const asio::error_code& ec) {
  if (!egress_open_) return;
  egress_open_ = false;
  conn_.local = source_toward(asio::ip::tcp::endpoint(to_asio(conn_.remote), conn_.remote_port), strand_);
  ctx_.settings().egress->closed(conn_, ec == asio::error::connection_refused ? host_close::reset_received
                                                                        : host_close::normal);
}

void tcp_flow::egress_fin(bool sent) {
  if (egress_open_) ctx_.settings().egress->fin(conn_, sent ? host_direction::sent : host_direction::received);
}

void tcp_flow::egress_closed() {
  if (!egress_open_) return;
  egress_open_ = false;
  if (conn_.local.bytes == packet::ip_address{}.bytes)  // never connected
    conn_.local = source_toward(asio::ip::tcp::endpoint(to_asio(conn_.remote), conn_.remote_port), strand_);
  const host_close how =
      host_reset_ ? host_close::reset_received : (ep_.was_reset() ? host_close::reset_sent : host_close::normal);
  ctx_.settings().egress->closed(conn_, how);
}

void tcp_flow::bytes(bool sent, std::span<const asio::const_buffer> buffers, std::size_t n) {
  if (egress_open_)
    ctx_.settings().egress->data(conn_, sent ? host_direction::sent : host_direction::received, buffers, n);
}

}  // namespace netpen::relay
