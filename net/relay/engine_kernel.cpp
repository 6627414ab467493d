// The rootful backend's data path in the engine (see kernel_path in
// engine.hpp). The kernel forwards and NATs the tree's packets; netpen only
// decides and observes.
//
// Theory of operation:
//  - New flows. The tree's own netns queues every packet of a flow that has
//    not seen a reply yet (`ct state new`, no bypass: without netpen the
//    packet is dropped). The first one starts a judgement (the same policy,
//    approver and events as the rootless relay: engine::judge); packets that
//    arrive meanwhile (SYN retransmissions, more datagrams) wait in the
//    queue and get the same verdict. The verdict is remembered per 5-tuple
//    until the flow's conntrack entry ends. Allowed: NF_ACCEPT, flow_open.
//    Denied: NF_REPEAT with the deny mark, so the tree's table rejects it
//    (TCP reset, else ICMP administratively prohibited), and one `denied`.
//    Datagrams under --proxy-only (or to a name resolved for the proxy) are
//    denied as in the rootless relay.
//  - Flow ends. Conntrack events of the tree's netns (accounting on) give
//    each flow's end with its bytes each way (IP bytes, headers included):
//    flow_close. Flows still open when the run ends close as "shutdown".
//    Verdicts that cannot change (the default, or an address rule) are
//    cached in the tree's table (cache_allowed) when nothing watches single
//    flows: new flows to that destination then skip the queue.
//  - DNS. The host table redirects the tree's port-53 traffic (any address)
//    to the gateway, where the engine's forwarder answers UDP and TCP.
//  - Proxy mode. The host table's TPROXY rule hands every TCP connection of
//    the tree (after the gate allowed its SYN) to a transparent listener on
//    the gateway; each accepted connection is a transparent_flow that dials
//    its destination through the proxy. Its events and bytes still come
//    from the gate and the tree's conntrack.
// Everything here runs on one strand (kernel_state::strand).
#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

#include <linux/if_ether.h>
#include <netinet/in.h>
#include <linux/netlink.h>
#include <poll.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>

#include <array>
#include <cstring>
#include <future>

#include "net/common/log.hpp"
#include "net/dns/exchange_event.hpp"
#include "net/netfilter/conntrack_codec.hpp"
#include "net/netfilter/nfqueue_codec.hpp"
#include "net/packet/icmp.hpp"
#include "net/relay/ct_flow_key.hpp"
#include "net/relay/engine.hpp"
#include "net/relay/host_socket.hpp"
#include "net/relay/transparent_flow.hpp"

namespace netpen::relay {

struct engine::kernel_state {
  explicit kernel_state(kernel_path p, asio::strand<asio::any_io_executor> s)
      : path(std::move(p)), strand(std::move(s)), queue_fd(strand), conntrack_fd(strand) {}
  kernel_path path;
  asio::strand<asio::any_io_executor> strand;
  asio::posix::stream_descriptor queue_fd, conntrack_fd;
  std::unordered_map<flow_key, std::vector<std::uint32_t>, flow_key_hash> pending;  // judged now: waiting ids
  std::unordered_map<flow_key, bool, flow_key_hash> decided;                        // allowed?
  std::unordered_map<flow_key, flow_record, flow_key_hash> open;                    // flow_open published
  std::vector<std::shared_ptr<asio::ip::udp::socket>> dns_sockets;
  std::vector<std::shared_ptr<asio::ip::tcp::acceptor>> transparent;  // proxy mode's listeners
  std::unordered_map<flow_key, std::shared_ptr<transparent_flow>, flow_key_hash> dialed;  // tunnel open, SYN let go
  std::vector<std::weak_ptr<transparent_flow>> spliced;  // proxied flows, for the end of the run
  std::array<char, 256> verdict_buf{};
};

namespace {

constexpr auto use_tuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::size_t max_decided = 65536;
constexpr std::size_t max_dns_query = 65535;
constexpr std::chrono::seconds verdict_cache_ttl{60};

// A completion handler for a coroutine that logs how it failed.
auto log_end(const char* what) {
  return [what](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log::warn("{} failed: {}", what, ex.what());
    }
  };
}

// A queued L3 packet as a frame (the parser expects Ethernet).
std::optional<packet::frame> parse_l3(std::span<const std::byte> l3, std::uint16_t hw_protocol,
                                      std::vector<std::byte>& scratch) {
  scratch.assign(14 + l3.size(), std::byte{0});
  scratch[12] = static_cast<std::byte>(hw_protocol >> 8);
  scratch[13] = static_cast<std::byte>(hw_protocol & 0xff);
  std::memcpy(scratch.data() + 14, l3.data(), l3.size());
  auto f = packet::parse_frame(scratch);
  if (!f || f->ip_packet.empty()) return std::nullopt;
  return *f;
}

// How a flow ended, from its last conntrack state.
std::string_view end_of(const netfilter::conntrack_entry& e) {
  if ((e.status & IPS_SEEN_REPLY) == 0) return e.original.proto == packet::proto_tcp ? "unreachable" : "expired";
  if (e.original.proto != packet::proto_tcp) return "expired";
  if (e.tcp_state && *e.tcp_state == TCP_CONNTRACK_CLOSE) return (e.status & IPS_ASSURED) ? "reset" : "refused";
  return "closed";
}

// A listener that accepts connections addressed anywhere (TPROXY):
// IP_TRANSPARENT (IPV6_TRANSPARENT) needs CAP_NET_ADMIN.
result<std::shared_ptr<asio::ip::tcp::acceptor>> open_transparent_listener(const asio::any_io_executor& ex,
                                                                          const asio::ip::tcp::endpoint& at) {
  auto acceptor = std::make_shared<asio::ip::tcp::acceptor>(ex);
  asio::error_code ec;
  acceptor->open(at.protocol(), ec);
  const int one = 1;
  if (!ec) {
    const bool v6 = at.address().is_v6();
    if (::setsockopt(acceptor->native_handle(), v6 ? SOL_IPV6 : SOL_IP, v6 ? IPV6_TRANSPARENT : IP_TRANSPARENT, &one,
                     sizeof one) != 0)
      ec = asio::error_code(errno, asio::system_category());
  }
  if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(at, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return fail("proxy-listener", fmt::format("cannot listen for the tree's TCP on [{}]:{}: {}",
                                              at.address().to_string(), at.port(), ec.message()));
  return acceptor;
}

}  // namespace

result<void> engine::attach_kernel_path(kernel_path path) {
  kernel_ = std::make_shared<kernel_state>(std::move(path), asio::make_strand(ctx_.get_executor()));
  auto& k = *kernel_;
  asio::error_code ec;
  k.queue_fd.assign(::dup(k.path.queue.fd()), ec);
  if (!ec) k.conntrack_fd.assign(::dup(k.path.conntrack.fd()), ec);
  if (ec) return fail("kernel-path", "cannot watch the netfilter sockets: " + ec.message());
  for (const auto& gw : k.path.gateways) {
    auto sock = std::make_shared<asio::ip::udp::socket>(k.strand);
    const asio::ip::udp::endpoint at(gw, k.path.dns_port);
    sock->open(at.protocol(), ec);
    if (!ec) sock->bind(at, ec);
    if (ec)
      return fail("dns-udp-service",
                  fmt::format("cannot serve DNS on {}:{}: {}", gw.to_string(), k.path.dns_port, ec.message()));
    k.dns_sockets.push_back(sock);
    if (auto r = dns_->serve_tcp_at(asio::ip::tcp::endpoint(gw, k.path.dns_port)); !r) return unexpected(r.error());
  }
  if (k.path.proxy_port != 0 && opts_.proxy) {
    for (const auto& gw : k.path.gateways) {
      auto listener = open_transparent_listener(k.strand, asio::ip::tcp::endpoint(gw, k.path.proxy_port));
      if (!listener) return unexpected(listener.error());
      k.transparent.push_back(std::move(*listener));
    }
  }
  asio::co_spawn(k.strand, read_queue(), log_end("the flow gate"));
  for (auto& a : k.transparent) asio::co_spawn(k.strand, accept_transparent(a), log_end("the transparent listener"));
  asio::co_spawn(k.strand, read_conntrack(), log_end("the conntrack reader"));
  for (auto& s : k.dns_sockets) asio::co_spawn(k.strand, serve_dns_udp(s), log_end("the DNS service"));
  return {};
}

asio::awaitable<void> engine::read_queue() {
  auto& k = *kernel_;
  for (;;) {
    auto [ec] = co_await k.queue_fd.async_wait(asio::posix::stream_descriptor::wait_read, use_tuple);
    if (ec || stopping_.load()) co_return;
    auto drained = k.path.queue.drain([this](const nlmsghdr* m) {
      if (auto p = netfilter::parse_queued_packet(m)) on_queued(p->id, p->payload, p->hw_protocol);
    });
    if (!drained) {
      log::warn("the flow gate stopped: {}", drained.error().message);
      co_return;
    }
    if (drained->overrun) log::warn("the flow gate missed packets (queue overrun): they were dropped");
  }
}

void engine::send_verdict(std::uint32_t id, bool allow) {
  auto& k = *kernel_;
  const auto* msg = netfilter::build_verdict(k.verdict_buf.data(), k.path.queue_num, id,
                                             allow ? netfilter::verdict::accept : netfilter::verdict::repeat,
                                             allow ? std::nullopt : std::optional<std::uint32_t>(k.path.deny_mark));
  if (auto r = k.path.queue.send(msg); !r) log::warn("flow gate verdict: {}", r.error().message);
}

void engine::on_queued(std::uint32_t id, std::span<const std::byte> l3, std::uint16_t hw_protocol) {
  auto& k = *kernel_;
  thread_local std::vector<std::byte> scratch;
  const auto f = parse_l3(l3, hw_protocol, scratch);
  if (!f) return send_verdict(id, false);
  flow_key key;
  key.protocol = f->protocol;
  key.src = f->src;
  key.dst = f->dst;
  if (f->kind == packet::l4_kind::tcp || f->kind == packet::l4_kind::udp) {
    key.src_port = f->kind == packet::l4_kind::tcp ? f->tcp.src_port : f->udp.src_port;
    key.dst_port = f->kind == packet::l4_kind::tcp ? f->tcp.dst_port : f->udp.dst_port;
  } else if (auto echo = packet::parse_echo_request(*f)) {
    key.src_port = echo->id;
  } else {
    return send_verdict(id, false);  // as the rootless relay: no other protocol leaves
  }
  for (const auto& gw : k.path.gateways)
    if (asio::ip::make_address(to_string(key.dst)) == gw) return send_verdict(id, true);  // ping the gateway
  if (auto d = k.decided.find(key); d != k.decided.end()) return send_verdict(id, d->second);
  if (auto p = k.pending.find(key); p != k.pending.end()) {
    p->second.push_back(id);
    return;
  }
  k.pending.emplace(key, std::vector<std::uint32_t>{id});
  prefetch_owner(key);
  asio::co_spawn(k.strand, judge_kernel_flow(key), log_end("judging a flow"));
}

asio::awaitable<void> engine::judge_kernel_flow(flow_key key) {
  const bool tcp = key.protocol == packet::proto_tcp;
  bool allow = true;
  std::string policy_reason, rule;
  if (!tcp && (opts_.proxy_only || is_synthetic(key.dst))) {
    allow = false;
    auto e = flow_event(events::kind::denied, key, flow_record{});
    e.via.clear();
    e.reason = opts_.proxy_only ? "--proxy-only: only TCP through the proxy may leave"
                                : "a name resolved for the proxy is reachable over TCP only";
    emit_for(std::move(e), key, true);
  } else {
    const policy::decision d = co_await judge(key);
    allow = d.what == policy::verdict::allow;
    if (allow) {
      policy_reason = d.reason;
      rule = d.rule;
    } else {
      emit_for(denied_event(key, d), key, true);
    }
  }
  // Proxy mode: the SYN waits until the tunnel is open, so a proxy that
  // fails refuses the connect (proxy_failed, no flow_open).
  if (allow && tcp && !kernel_->transparent.empty()) {
    auto flow = std::make_shared<transparent_flow>(*this, asio::make_strand(ctx_.get_executor()), key);
    const bool tunnel = co_await flow->dial();
    if (tunnel) {
      kernel_->dialed.insert_or_assign(key, flow);
      kernel_->spliced.push_back(flow);
    } else {
      allow = false;  // proxy_failed was said
    }
  }
  // As the rootless relay holds the SYN-ACK: the owner lookup started at the
  // first packet has run while the client is surely alive (blocked on it).
  co_await owner_looked_up();
  kernel_flow_decided(key, allow, std::move(policy_reason), std::move(rule));
}

void engine::kernel_flow_decided(const flow_key& key, bool allow, std::string policy_reason, std::string rule) {
  auto& k = *kernel_;
  auto ids = std::move(k.pending[key]);
  k.pending.erase(key);
  for (auto id : ids) send_verdict(id, allow);
  if (k.decided.size() >= max_decided) k.decided.clear();
  k.decided[key] = allow;
  if (!allow) return;
  if (k.spliced.size() >= 256 && k.spliced.size() % 256 == 0)
    std::erase_if(k.spliced, [](const auto& w) { return w.expired(); });
  cache_verdict(key, policy_reason);
  warn_if_encrypted_dns(key);
  flow_record record;
  record.policy = std::move(policy_reason);
  record.rule = std::move(rule);
  if (key.protocol == packet::proto_tcp && opts_.proxy) record.via = proxy::display(*opts_.proxy);
  auto& stored = k.open.insert_or_assign(key, std::move(record)).first->second;
  flow_opened(key, stored);
}

// Nothing watches single flows (no events, log, summary, capture, prompt)
// and the verdict cannot change during the run (the default, or an address
// rule, and no deny rule by name that a name learned later could bring in):
// later flows to the same destination need not ask. With the proxy
// every SYN must wait for its tunnel, so nothing is cached.
void engine::cache_verdict(const flow_key& key, std::string_view reason) {
  auto& k = *kernel_;
  if (!k.path.cache_allowed || opts_.observe || opts_.proxy) return;
  if (key.protocol != packet::proto_tcp && key.protocol != packet::proto_udp) return;
  const bool fixed = reason.empty() /* no policy */ || reason == policy::reason::default_allow ||
                     reason == policy::reason::allow_rule;
  if (!fixed || (opts_.policy && opts_.policy->address_verdicts_can_change())) return;
  k.path.cache_allowed(key, verdict_cache_ttl);
}

asio::awaitable<void> engine::read_conntrack() {
  auto& k = *kernel_;
  for (;;) {
    auto [ec] = co_await k.conntrack_fd.async_wait(asio::posix::stream_descriptor::wait_read, use_tuple);
    if (ec || stopping_.load()) co_return;
    auto drained = k.path.conntrack.drain([this](const nlmsghdr* m) {
      auto e = netfilter::parse_conntrack(m);
      if (!e || e->event != netfilter::ct_event::destroyed) return;
      kernel_flow_ended(flow_key_of(e->original), e->orig_bytes, e->reply_bytes, end_of(*e));
    });
    if (!drained) {
      log::warn("the conntrack reader stopped: {}", drained.error().message);
      co_return;
    }
    if (drained->overrun) log::warn("conntrack events were lost (receive buffer full): some flow ends are missing");
  }
}

void engine::kernel_flow_ended(const flow_key& key, std::uint64_t out, std::uint64_t in, std::string_view end) {
  auto& k = *kernel_;
  k.decided.erase(key);
  if (auto d = k.dialed.find(key); d != k.dialed.end()) {  // its connection never came
    d->second->shutdown();
    k.dialed.erase(d);
  }
  auto it = k.open.find(key);
  if (it == k.open.end()) return;
  it->second.bytes_out = out;
  it->second.bytes_in = in;
  it->second.end = end;
  flow_closed(key, it->second);
  k.open.erase(it);
}

// The run ends: stop reading, read the tree's conntrack table once more
// for the counters of flows still tracked (a closed TCP flow lingers in
// TIME_WAIT for a second), and close them all.
void engine::close_kernel_flows() {
  auto& k = *kernel_;
  asio::error_code ignored;
  k.queue_fd.cancel(ignored);
  k.conntrack_fd.cancel(ignored);
  for (auto& s : k.dns_sockets) s->close(ignored);
  for (auto& a : k.transparent) a->close(ignored);
  for (auto& w : k.spliced)
    if (auto flow = w.lock()) flow->shutdown();
  k.spliced.clear();
  k.dialed.clear();
  std::array<char, 256> req{};
  bool done = false;
  std::unordered_map<flow_key, netfilter::conntrack_entry, flow_key_hash> last;
  auto on_message = [&](const nlmsghdr* m) {
    if (m->nlmsg_type == NLMSG_DONE || m->nlmsg_type == NLMSG_ERROR) done = true;
    if (auto e = netfilter::parse_conntrack(m)) last[flow_key_of(e->original)] = *e;
  };
  if (!k.open.empty() && k.path.conntrack.send(netfilter::build_conntrack_dump(req.data(), 1))) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
    while (!done && std::chrono::steady_clock::now() < deadline) {
      pollfd p{k.path.conntrack.fd(), POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      if (!k.path.conntrack.drain(on_message)) break;
    }
  }
  for (auto& [key, record] : k.open) {
    record.end = "shutdown";
    if (auto it = last.find(key); it != last.end()) {
      record.bytes_out = it->second.orig_bytes;
      record.bytes_in = it->second.reply_bytes;
      // A TCP flow already closed (TIME_WAIT, CLOSE) or never answered ends
      // as it did; anything else was cut by the end of the run.
      const auto& e = it->second;
      const bool tcp = e.original.proto == packet::proto_tcp;
      const bool lingering = e.tcp_state && (*e.tcp_state == TCP_CONNTRACK_TIME_WAIT || *e.tcp_state == TCP_CONNTRACK_CLOSE);
      if (tcp && (lingering || (e.status & IPS_SEEN_REPLY) == 0)) record.end = end_of(e);
    }
    flow_closed(key, record);
  }
  k.open.clear();
}

asio::awaitable<void> engine::accept_transparent(std::shared_ptr<asio::ip::tcp::acceptor> acceptor) {
  auto& k = *kernel_;
  for (;;) {
    auto strand = asio::make_strand(ctx_.get_executor());
    auto [ec, socket] = co_await acceptor->async_accept(strand, use_tuple);
    if (ec == asio::error::operation_aborted || stopping_.load()) co_return;
    if (ec) {
      log::debug("transparent listener: {}", ec.message());
      continue;
    }
    asio::error_code lec, rec;
    const auto local = socket.local_endpoint(lec);   // where the tree meant to go
    const auto remote = socket.remote_endpoint(rec);  // the tree's socket
    if (lec || rec) continue;
    flow_key key;
    key.protocol = packet::proto_tcp;
    key.src = from_asio(remote.address());
    key.src_port = remote.port();
    key.dst = from_asio(local.address());
    key.dst_port = local.port();
    std::shared_ptr<transparent_flow> flow;
    if (auto it = k.dialed.find(key); it != k.dialed.end()) {
      flow = std::move(it->second);
      k.dialed.erase(it);
    } else {  // not seen by the gate as new (say, a tuple reused at once): dial now
      flow = std::make_shared<transparent_flow>(*this, strand, key);
      k.spliced.push_back(flow);
    }
    flow->attach(std::move(socket));
  }
}

void engine::stop_kernel_path() {
  auto done = std::make_shared<std::promise<void>>();
  auto f = done->get_future();
  asio::post(kernel_->strand, [this, done] {
    close_kernel_flows();
    done->set_value();
  });
  f.wait_for(std::chrono::seconds(2));
}

asio::awaitable<void> engine::serve_dns_udp(std::shared_ptr<asio::ip::udp::socket> socket) {
  std::vector<std::byte> buf(max_dns_query);
  for (;;) {
    asio::ip::udp::endpoint from;
    auto [ec, n] = co_await socket->async_receive_from(asio::buffer(buf), from, use_tuple);
    if (ec == asio::error::operation_aborted || stopping_.load()) co_return;
    if (ec) continue;
    if (dns_in_flight_.load() >= 512) continue;
    flow_key key;
    key.protocol = packet::proto_udp;
    key.src = from_asio(from.address());
    key.src_port = from.port();
    const auto local = socket->local_endpoint();
    key.dst = from_asio(local.address());
    key.dst_port = local.port();
    dns_udp_.fetch_add(1, std::memory_order_relaxed);
    dns_in_flight_.fetch_add(1);
    std::vector<std::byte> query(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
    asio::co_spawn(
        ctx_.get_executor(),
        [this, key, from, socket, q = std::move(query)]() mutable -> asio::awaitable<void> {
          std::vector<std::byte> copy;
          if (opts_.observe) {
            copy = q;
            dns_udp_exchange(key, copy, std::nullopt);
          }
          auto reply = co_await dns_->answer(std::move(q), dns::transport::udp);
          if (opts_.observe) dns_udp_exchange(key, copy, reply);
          if (reply.empty() || stopping_.load()) co_return;
          asio::post(kernel_->strand, [socket, from, r = std::move(reply)] {  // the socket's strand
            asio::error_code ignored;
            socket->send_to(asio::buffer(r), from, 0, ignored);
          });
        },
        [this](std::exception_ptr e) {
          dns_in_flight_.fetch_sub(1);
          if (e) log::warn("a DNS query failed");
        });
  }
}

}  // namespace netpen::relay
