// Unit tests for the rootful gate's pure bookkeeping (relay/gate_table.hpp):
// pending, decided and open flows, how a flow ended from conntrack, and
// which verdicts may be cached in the tree's table.
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>

#include <catch2/catch.hpp>

#include "net/packet/frame.hpp"
#include "net/policy/policy.hpp"
#include "net/relay/gate_table.hpp"

using netpen::relay::end_at_shutdown;
using netpen::relay::end_of;
using netpen::relay::flow_key;
using netpen::relay::flow_record;
using netpen::relay::gate_table;
using netpen::relay::verdict_cacheable;
using action = gate_table::action;
namespace reason = netpen::policy::reason;

namespace {
flow_key key(std::uint8_t protocol, std::uint16_t src_port, std::uint16_t dst_port = 80) {
  flow_key k;
  k.protocol = protocol;
  k.src.bytes = {10, 248, 0, 2};
  k.dst.bytes = {203, 0, 113, 10};
  k.src_port = src_port;
  k.dst_port = dst_port;
  return k;
}
netpen::netfilter::conntrack_entry entry(std::uint8_t proto, std::uint32_t status,
                                         std::optional<std::uint8_t> tcp_state = std::nullopt) {
  netpen::netfilter::conntrack_entry e;
  e.original.proto = proto;
  e.status = status;
  e.tcp_state = tcp_state;
  return e;
}
constexpr auto tcp = netpen::packet::proto_tcp;
constexpr auto udp = netpen::packet::proto_udp;
}  // namespace

TEST_CASE("gate: the first packet of a flow is judged, later ones wait for the verdict", "[relay][gate]") {
  gate_table t;
  const auto k = key(tcp, 40000);
  CHECK(t.on_packet(k, 1) == action::judge);
  CHECK(t.on_packet(k, 2) == action::wait);  // a SYN retransmission meanwhile
  CHECK(t.on_packet(k, 3) == action::wait);
  CHECK(t.on_packet(key(tcp, 40001), 4) == action::judge);  // another flow is judged on its own
  CHECK(t.pending() == 2);
  CHECK(t.decide(k, true) == std::vector<std::uint32_t>{1, 2, 3});
  CHECK(t.pending() == 1);
  CHECK(t.on_packet(k, 5) == action::accept);  // decided: answered at once
}

TEST_CASE("gate: a denied flow's later packets are rejected until conntrack forgets it", "[relay][gate]") {
  gate_table t;
  const auto k = key(udp, 5353, 9999);
  CHECK(t.on_packet(k, 10) == action::judge);
  CHECK(t.decide(k, false) == std::vector<std::uint32_t>{10});
  CHECK(t.on_packet(k, 11) == action::reject);
  CHECK_FALSE(t.ended(k));  // never opened: nothing to close
  CHECK(t.on_packet(k, 12) == action::judge);  // the tuple is new again
}

TEST_CASE("gate: an opened flow's record comes back when it ends", "[relay][gate]") {
  gate_table t;
  const auto k = key(tcp, 40000);
  REQUIRE(t.on_packet(k, 1) == action::judge);
  t.decide(k, true);
  flow_record r;
  r.policy = std::string(reason::allow_rule);
  r.rule = "web.lab.test (--allow)";
  auto& stored = t.opened(k, r);
  stored.announced = true;
  CHECK(t.any_open());
  const auto closed = t.ended(k);
  REQUIRE(closed);
  CHECK(closed->policy == reason::allow_rule);
  CHECK(closed->rule == "web.lab.test (--allow)");
  CHECK(closed->announced);
  CHECK_FALSE(t.any_open());
  CHECK_FALSE(t.ended(k));  // once
  CHECK(t.on_packet(k, 2) == action::judge);
}

TEST_CASE("gate: the run's end takes every open record", "[relay][gate]") {
  gate_table t;
  for (std::uint16_t port = 1; port <= 3; ++port) {
    t.on_packet(key(tcp, port), port);
    t.decide(key(tcp, port), true);
    t.opened(key(tcp, port), flow_record{});
  }
  CHECK(t.take_open().size() == 3);
  CHECK_FALSE(t.any_open());
  CHECK(t.take_open().empty());
}

TEST_CASE("gate: remembered verdicts are bounded", "[relay][gate]") {
  gate_table t;
  for (std::uint32_t i = 0; i < gate_table::max_decided; ++i) {
    const auto k = key(udp, static_cast<std::uint16_t>(i & 0xffff), static_cast<std::uint16_t>(1 + (i >> 16)));
    t.on_packet(k, i);
    t.decide(k, true);
  }
  CHECK(t.decided() == gate_table::max_decided);
  const auto extra = key(tcp, 1);
  t.on_packet(extra, 1);
  t.decide(extra, true);
  CHECK(t.decided() == 1);  // all forgotten at once; the newest kept
  CHECK(t.on_packet(extra, 2) == action::accept);
}

TEST_CASE("gate: how a flow ended, from its last conntrack entry", "[relay][gate]") {
  CHECK(end_of(entry(tcp, 0, TCP_CONNTRACK_SYN_SENT)) == "unreachable");
  CHECK(end_of(entry(udp, 0)) == "expired");
  CHECK(end_of(entry(udp, IPS_SEEN_REPLY)) == "expired");
  CHECK(end_of(entry(tcp, IPS_SEEN_REPLY, TCP_CONNTRACK_CLOSE)) == "refused");
  CHECK(end_of(entry(tcp, IPS_SEEN_REPLY | IPS_ASSURED, TCP_CONNTRACK_CLOSE)) == "reset");
  CHECK(end_of(entry(tcp, IPS_SEEN_REPLY | IPS_ASSURED, TCP_CONNTRACK_TIME_WAIT)) == "closed");
}

TEST_CASE("gate: a flow still tracked at the run's end ends as shutdown unless it was done", "[relay][gate]") {
  CHECK(end_at_shutdown(entry(tcp, IPS_SEEN_REPLY | IPS_ASSURED, TCP_CONNTRACK_ESTABLISHED)) == "shutdown");
  CHECK(end_at_shutdown(entry(tcp, IPS_SEEN_REPLY | IPS_ASSURED, TCP_CONNTRACK_TIME_WAIT)) == "closed");
  CHECK(end_at_shutdown(entry(tcp, IPS_SEEN_REPLY | IPS_ASSURED, TCP_CONNTRACK_CLOSE)) == "reset");
  CHECK(end_at_shutdown(entry(tcp, 0, TCP_CONNTRACK_SYN_SENT)) == "unreachable");
  CHECK(end_at_shutdown(entry(udp, IPS_SEEN_REPLY)) == "shutdown");
  CHECK(end_at_shutdown(entry(udp, 0)) == "shutdown");
}

TEST_CASE("gate: only verdicts that cannot change are cached, and only when nobody watches", "[relay][gate]") {
  const auto t = key(tcp, 40000);
  const auto u = key(udp, 40000);
  auto icmp = key(netpen::packet::proto_icmp, 7, 0);
  CHECK(verdict_cacheable(t, "", false, false, false));  // no policy
  CHECK(verdict_cacheable(u, reason::default_allow, false, false, false));
  CHECK(verdict_cacheable(t, reason::allow_rule, false, false, false));
  CHECK_FALSE(verdict_cacheable(t, reason::allowed_name, false, false, false));      // a name's addresses change
  CHECK_FALSE(verdict_cacheable(t, reason::interactive_allow, false, false, false));
  CHECK_FALSE(verdict_cacheable(t, reason::allow_rule, true, false, false));   // observed: each flow is an event
  CHECK_FALSE(verdict_cacheable(t, reason::allow_rule, false, true, false));   // proxied: each SYN waits
  CHECK_FALSE(verdict_cacheable(t, reason::allow_rule, false, false, true));   // a deny rule by name exists
  CHECK_FALSE(verdict_cacheable(icmp, "", false, false, false));
}

TEST_CASE("gate table: a claim goes into the open record, or waits for its open", "[relay][gate]") {
  gate_table t;
  netpen::sniff::claim http;
  http.protocol = netpen::sniff::claim_protocol::http;
  http.http_host = "web.lab.test";
  netpen::sniff::claim quic;
  quic.protocol = netpen::sniff::claim_protocol::quic;
  quic.sni = "web.lab.test";

  REQUIRE(t.on_packet(key(tcp, 1), 1) == action::judge);
  t.decide(key(tcp, 1), true);
  t.opened(key(tcp, 1), flow_record{});
  CHECK(t.claimed(key(tcp, 1), http) != nullptr);  // after its open: into the record
  auto r = t.ended(key(tcp, 1));
  REQUIRE(r);
  CHECK(r->claim.http_host == "web.lab.test");

  const auto udp = key(netpen::packet::proto_udp, 2, 443);
  CHECK(t.claimed(udp, quic) == nullptr);  // a queued Initial, sniffed before the verdict
  CHECK(t.opened(udp, flow_record{}).claim.sni == "web.lab.test");
  CHECK(t.ended(udp)->claim.protocol == netpen::sniff::claim_protocol::quic);

  t.claimed(key(tcp, 3), http);  // never opened (denied): gone with the flow
  CHECK_FALSE(t.ended(key(tcp, 3)));
  CHECK(t.opened(key(tcp, 3), flow_record{}).claim.empty());
}

TEST_CASE("gate: claim mode lets the SYN go and keeps the record pending until the claimed name decides",
          "[relay][gate][claim]") {
  gate_table t;
  const auto k = key(tcp, 41000, 443);
  CHECK(t.on_packet(k, 1) == action::judge);
  CHECK(t.on_packet(k, 2) == action::wait);
  CHECK(t.decide(k, true) == std::vector<std::uint32_t>{1, 2});  // the SYN goes to the transparent listener
  flow_record pending;
  pending.policy = "placeholder";
  t.await_claim(k, pending);
  CHECK(t.awaiting_claim(k));
  CHECK(t.claiming() == 1);
  CHECK(t.on_packet(k, 3) == action::accept);  // a retransmission meanwhile
  CHECK_FALSE(t.any_open());                   // no flow_open yet
  auto settled = t.claim_settled(k, true);
  REQUIRE(settled);
  CHECK(settled->policy == "placeholder");
  CHECK_FALSE(t.awaiting_claim(k));
  settled->claim.sni = "example.com";
  t.opened(k, std::move(*settled));
  auto closed = t.ended(k);
  REQUIRE(closed);
  CHECK(closed->claim.sni == "example.com");  // kept for flow_close
}

TEST_CASE("gate: a claim refused is remembered, and one that ended first comes back empty", "[relay][gate][claim]") {
  gate_table t;
  const auto refused = key(tcp, 41001, 443);
  t.on_packet(refused, 1);
  t.decide(refused, true);
  t.await_claim(refused, flow_record{});
  CHECK(t.claim_settled(refused, false));
  CHECK(t.verdict_of(refused) == false);
  CHECK(t.on_packet(refused, 2) == action::reject);
  CHECK_FALSE(t.ended(refused));  // never opened: no flow_close

  const auto gone = key(tcp, 41002, 443);
  t.on_packet(gone, 3);
  t.decide(gone, true);
  t.await_claim(gone, flow_record{});
  CHECK_FALSE(t.ended(gone));  // the child reset it before its first bytes
  CHECK(t.claiming() == 0);
  CHECK_FALSE(t.claim_settled(gone, true));  // the late verdict finds nothing to open
  CHECK_FALSE(t.verdict_of(key(tcp, 41003, 443)));  // never seen
}

TEST_CASE("gate: a TCP connection is over at LAST_ACK, TIME_WAIT or CLOSE, not when its entry goes", "[relay][gate]") {
  using netpen::relay::tcp_connection_over;
  CHECK_FALSE(tcp_connection_over(entry(tcp, IPS_SEEN_REPLY | IPS_ASSURED, TCP_CONNTRACK_ESTABLISHED)));
  CHECK_FALSE(tcp_connection_over(entry(tcp, IPS_SEEN_REPLY | IPS_ASSURED, TCP_CONNTRACK_FIN_WAIT)));
  CHECK_FALSE(tcp_connection_over(entry(tcp, IPS_SEEN_REPLY | IPS_ASSURED, TCP_CONNTRACK_CLOSE_WAIT)));
  CHECK(tcp_connection_over(entry(tcp, IPS_SEEN_REPLY | IPS_ASSURED, TCP_CONNTRACK_LAST_ACK)));
  CHECK(tcp_connection_over(entry(tcp, IPS_SEEN_REPLY | IPS_ASSURED, TCP_CONNTRACK_TIME_WAIT)));
  CHECK(tcp_connection_over(entry(tcp, IPS_SEEN_REPLY | IPS_ASSURED, TCP_CONNTRACK_CLOSE)));
  CHECK_FALSE(tcp_connection_over(entry(udp, IPS_SEEN_REPLY)));
  // ... and a run that ends then does not call it "shutdown"
  CHECK(end_at_shutdown(entry(tcp, IPS_SEEN_REPLY | IPS_ASSURED, TCP_CONNTRACK_LAST_ACK)) == "closed");
}

TEST_CASE("gate: the first time a connection was over is its record's end", "[relay][gate]") {
  using namespace std::chrono_literals;
  gate_table t;
  const auto k = key(tcp, 40000);
  t.on_packet(k, 1);
  t.decide(k, true);
  t.opened(k, flow_record{});
  const auto over = std::chrono::steady_clock::now();
  t.finished(k, over);
  t.finished(k, over + 1s);  // TIME_WAIT after LAST_ACK: the first one counts
  t.finished(key(tcp, 40001), over);  // not open: nothing
  const auto record = t.ended(k);
  REQUIRE(record);
  CHECK(record->ended == over);
}
