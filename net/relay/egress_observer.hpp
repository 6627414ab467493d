// The relay's host side as the capture's egress points see it: each relayed
// flow's host socket (with the host's addresses) and what it sent and
// received. The relay calls it from each flow's strand, several flows at
// once; an implementation locks, copies what it keeps and never blocks.
//
// Order for one socket: opened, then (TCP) connected, data and fin in the
// order they happened, then closed. A TCP socket whose connect failed gets
// opened then closed. Nothing is reported for the DNS forwarder's own
// upstream queries.
#pragma once
#include <asio/buffer.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>

#include "net/relay/flow_key.hpp"

namespace netpen::relay {

// One host socket of the relay, as the wire sees it.
struct host_conn {
  std::uint8_t protocol = 0;  // packet::proto_tcp, proto_udp, proto_icmp or proto_icmpv6
  packet::ip_address local{};  // TCP: unspecified (all zero) in opened(); known from connected() on
  packet::ip_address remote{};
  std::uint16_t local_port = 0;   // ICMP echo: the identifier the host socket's messages carry
  std::uint16_t remote_port = 0;  // ICMP echo: 0
  flow_key child{};               // the child's flow this socket carries

  // The socket's identity on the host (`local` and `child` left out: the
  // local address of a TCP socket is only known once it is connected).
  friend bool same_socket(const host_conn& a, const host_conn& b) {
    return a.protocol == b.protocol && a.local_port == b.local_port && a.remote == b.remote &&
           a.remote_port == b.remote_port;
  }
};

struct host_conn_hash {
  std::size_t operator()(const host_conn& c) const noexcept {
    std::size_t h = std::hash<std::uint64_t>{}(std::uint64_t{c.protocol} << 32 | std::uint64_t{c.local_port} << 16 |
                                                c.remote_port);
    for (const auto b : c.remote.bytes) h = h * 131 + b;
    return h;
  }
};
struct host_conn_same {
  bool operator()(const host_conn& a, const host_conn& b) const noexcept { return same_socket(a, b); }
};

enum class host_direction { sent, received };

// How a host socket ended.
enum class host_close { normal, reset_sent, reset_received };

class egress_observer {
 public:
  virtual ~egress_observer() = default;
  // The socket has its local port (ICMP: identifier) and nothing has left
  // it yet: for TCP the SYN is about to go.
  virtual void opened(const host_conn& c) = 0;
  // TCP: the connect completed; `c.local` is now the real local address.
  virtual void connected(const host_conn& c) = 0;
  // What the socket sent or received, the first `n` bytes of `buffers`:
  // TCP stream bytes in order (over TLS: the TLS records); one whole UDP
  // datagram's payload; one ICMP echo message from its type byte on (the
  // identifier as the relay wrote or read it: a ping socket rewrites it to
  // c.local_port on the wire).
  virtual void data(const host_conn& c, host_direction d, std::span<const asio::const_buffer> buffers,
                    std::size_t n) = 0;
  // TCP: a FIN sent (the child's half-close passed on) or received (EOF).
  virtual void fin(const host_conn& c, host_direction d) = 0;
  // The socket is closed. For a TCP connect that failed, `reset_received`
  // means refused; `c.local` is filled in when the host could tell it.
  virtual void closed(const host_conn& c, host_close how) = 0;
};

}  // namespace netpen::relay
