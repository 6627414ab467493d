// The sandbox's DNS forwarder (host side): answers every DNS query the relay
// intercepts (UDP or TCP, port 53 at any address). --hosts-file names are
// answered locally for A/AAAA; everything else goes to the upstream
// resolvers (--dns, or the host's resolv.conf nameservers) with timeout and
// retries; in synthetic mode (socks5h://, --proxy-only) nothing is forwarded
// and names get addresses the relay maps back to them (which query is
// answered how: local_answer.hpp). Also serves DNS-over-TCP on an ephemeral
// loopback port to which the relay connects the child's TCP port-53 flows.
#pragma once
#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "net/common/error.hpp"
#include "net/dns/hosts_file.hpp"
#include "net/dns/message.hpp"
#include "net/dns/synthetic_names.hpp"
#include "net/dns/upstream.hpp"

namespace netpen::dns {

enum class transport { udp, tcp };

struct forwarder_options {
  std::chrono::milliseconds timeout{2000};  // per exchange with one server
  int attempts = 2;                         // rounds over the whole server list
  std::uint32_t overlay_ttl = 60;           // TTL of locally answered records
  std::chrono::milliseconds tcp_idle_timeout{10000};  // TCP service, between queries
  // When set, nothing is forwarded: A questions get a synthetic address
  // (overlay names still get theirs), every other question NODATA.
  std::shared_ptr<synthetic_names> synthetic{};
  // When set, asked first about every question's name and type (any
  // thread): false answers it NXDOMAIN at once (a name the policy refuses).
  std::function<bool(const std::string& qname, std::uint16_t qtype)> allow_query{};
};

// Called after each answer with the question's name and the A/AAAA/CNAME
// records of the reply. May be called from several threads at once.
using answer_observer =
    std::function<void(const std::string& qname, const std::vector<answer_record>& records)>;

// Called after each query is answered (or dropped: empty reply), with both
// messages. May be called from several threads at once.
using exchange_observer = std::function<void(transport t, byte_view query, byte_view reply)>;

class forwarder {
 public:
  // With no servers every forwarded query gets SERVFAIL.
  forwarder(asio::any_io_executor ex, std::vector<upstream_server> servers, hosts_table overlay,
            forwarder_options opts = {});
  ~forwarder();  // stop()
  forwarder(const forwarder&) = delete;
  forwarder& operator=(const forwarder&) = delete;

  // Answers one query (wire format). Overlay names are answered locally for
  // A/AAAA (a name with no address of that family gets NODATA); everything
  // else goes to the upstreams in order (UDP for transport::udp, a truncated
  // answer passed back as is so the client retries over TCP; TCP for
  // transport::tcp). An upstream SERVFAIL/REFUSED moves on to the next
  // server; all failing gives SERVFAIL. An unparseable query, a response, or
  // any query after stop() gives an empty vector: drop it.
  // Thread-safe; may be awaited from any executor, concurrently.
  asio::awaitable<bytes> answer(bytes query, transport t);

  // Starts (once; later calls return the same endpoint) the DNS-over-TCP
  // service on 127.0.0.1 with an ephemeral port: length-prefixed queries,
  // several per connection served in order, answered with answer(..., tcp).
  result<asio::ip::tcp::endpoint> start_tcp_service();
  // Serves DNS over TCP at `at` as well (the rootful backend's gateway).
  result<asio::ip::tcp::endpoint> serve_tcp_at(const asio::ip::tcp::endpoint& at);

  // Replaces the answer observer (nullptr to remove).
  void on_answer(answer_observer cb);
  // Replaces the exchange observer (nullptr to remove).
  void on_exchange(exchange_observer cb);

  // Stops the TCP service and cancels outstanding upstream exchanges and
  // connections; afterwards no new work starts. Idempotent.
  void stop();

  struct state;  // implementation detail (forwarder.cpp)

 private:
  result<asio::ip::tcp::endpoint> listen_tcp(const asio::ip::tcp::endpoint& at);  // state_->mutex held
  std::shared_ptr<state> state_;
};

}  // namespace netpen::dns
