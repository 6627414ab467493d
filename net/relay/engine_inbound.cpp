// The rootless engine's side of published ports (see engine.hpp): inbound
// TCP flows opened through the tap, and inbound UDP flows' datagrams.
#include <asio/post.hpp>

#include "net/common/log.hpp"
#include "net/common/sandbox_addresses.hpp"
#include "net/relay/destination.hpp"
#include "net/relay/engine.hpp"
#include "net/relay/flow_services.hpp"
#include "net/relay/tcp_flow.hpp"
#include "net/packet/icmp_quote.hpp"

namespace netpen::relay {
namespace {

// The gateway's ports for inbound tuples: the dynamic range.
constexpr std::uint16_t first_inbound_port = 49152;
constexpr std::uint32_t inbound_ports = 65536 - first_inbound_port;

flow_key inbound_key(const inbound_request& req, std::uint8_t protocol) {
  const bool v6 = req.route == inbound_route::sandbox_v6;
  flow_key k;
  k.protocol = protocol;
  k.src = child_address(v6);
  k.src_port = req.port.sandbox_port;
  k.dst = gateway_address(v6);
  return k;
}

}  // namespace

class engine::inbound_udp_path final : public inbound_datagrams {
 public:
  inbound_udp_path(engine& e, flow_key key) : engine_(e), key_(key) {}
  void send(std::span<const std::byte> payload) override {
    if (!engine_.stopping_.load()) engine_.services_.tap().send_udp(key_, payload);
  }
  void close() override {
    asio::post(engine_.dispatch_, [e = &engine_, key = key_] { e->inbound_udp_.erase(key); });
  }
  const flow_key& key() const override { return key_; }

 private:
  engine& engine_;
  flow_key key_;
};

std::uint16_t engine::next_inbound_port() {
  return static_cast<std::uint16_t>(first_inbound_port + inbound_port_seq_.fetch_add(1) % inbound_ports);
}

void engine::open_inbound_tcp(asio::ip::tcp::socket client, const inbound_request& req,
                              inbound_connector::refused_fn refused) {
  asio::post(dispatch_, [this, client = std::move(client), req, refused = std::move(refused)]() mutable {
    if (stopping_.load()) {
      refused(std::move(client));
      return;
    }
    flow_key key = inbound_key(req, packet::proto_tcp);
    for (std::uint32_t tries = 0; tries < inbound_ports; ++tries) {
      key.dst_port = next_inbound_port();
      if (tcp_flows_.find_live(key) == tcp_flows_.end()) break;
    }
    tcp::config cfg;
    cfg.mss = static_cast<std::uint16_t>(sandbox::tap_mtu - (key.dst.v6 ? 60 : 40));
    auto flow = std::make_shared<tcp_flow>(services_, asio::make_strand(ctx_.get_executor()), key, std::move(client),
                                           req.client, static_cast<std::uint32_t>(isn_rng_()), cfg,
                                           done_for(tcp_flows_), std::move(refused));
    tcp_flows_.insert(key, flow);
    tcp_flows_total_.fetch_add(1, std::memory_order_relaxed);
    flow_started();
    flow->start();
  });
}

std::shared_ptr<inbound_datagrams> engine::open_inbound_udp(const inbound_request& req,
                                                            inbound_connector::reply_fn reply,
                                                            std::function<void()> refused) {
  if (stopping_.load()) return nullptr;
  flow_key key = inbound_key(req, packet::proto_udp);
  key.dst_port = next_inbound_port();
  asio::post(dispatch_, [this, key, target = inbound_udp_target{std::move(reply), std::move(refused)}]() mutable {
    inbound_udp_[key] = std::move(target);
  });
  return std::make_shared<inbound_udp_path>(*this, key);
}

// A datagram from the child to an inbound UDP flow's tuple: its reply.
bool engine::answer_inbound_udp(const flow_key& key, const packet::frame& f) {
  if (inbound_udp_.empty()) return false;
  auto it = inbound_udp_.find(key);
  if (it == inbound_udp_.end()) return false;
  it->second.reply(std::vector<std::byte>(f.payload.begin(), f.payload.end()));
  return true;
}

bool engine::refuse_inbound(const packet::frame& f) {
  const auto q = packet::parse_quoted_error(f);
  if (!q) return false;
  flow_key key;  // the flow's tuple as the child sees it: the quoted packet came from the gateway
  key.protocol = q->protocol;
  key.src = q->dst;
  key.src_port = q->dst_port;
  key.dst = q->src;
  key.dst_port = q->src_port;
  if (!is_gateway(key.dst)) return false;
  if (key.protocol == packet::proto_udp) {
    auto it = inbound_udp_.find(key);
    if (it == inbound_udp_.end()) return false;
    log::debug("{}: the child refused an inbound datagram (ICMP type {} code {})", to_string(key), q->type, q->code);
    // Off the dispatch strand: the next route may make a socket inside the sandbox.
    if (it->second.refused) asio::post(ctx_, it->second.refused);
    return true;
  }
  auto it = tcp_flows_.find_live(key);
  if (it == tcp_flows_.end()) return false;
  log::debug("{}: the child refused an inbound SYN (ICMP type {} code {})", to_string(key), q->type, q->code);
  it->second->refuse_inbound_open();
  return true;
}

}  // namespace netpen::relay
