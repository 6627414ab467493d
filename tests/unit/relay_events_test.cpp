// [events] the relay's pure pieces of event publishing: DNS exchanges as
// events, the /proc/net socket table lines the process finder reads, and
// the claim (SNI, HTTP Host) in the services' flow events.
#include <catch2/catch.hpp>

#include "net/dns/exchange_event.hpp"
#include "net/packet/packet_text.hpp"
#include "net/relay/flow_services.hpp"
#include "net/relay/process_finder.hpp"
#include "tests/unit/dns_test_util.hpp"
#include "tests/unit/packet_test_util.hpp"

using namespace netpen;

namespace {
dns::bytes query_for(std::string_view host, std::uint16_t qtype) { return dns_test::make_query(0x1234, host, qtype); }
}  // namespace

TEST_CASE("DNS type and rcode names", "[events]") {
  CHECK(dns::type_name(1) == "A");
  CHECK(dns::type_name(28) == "AAAA");
  CHECK(dns::type_name(65) == "HTTPS");
  CHECK(dns::type_name(999) == "TYPE999");
  CHECK(dns::rcode_name(0) == "NOERROR");
  CHECK(dns::rcode_name(3) == "NXDOMAIN");
  CHECK(dns::rcode_name(11) == "RCODE11");
}

TEST_CASE("DNS exchanges become query and answer events", "[events]") {
  const auto q = query_for("web.lab.test", dns::type_a);
  auto qe = dns::query_event(q, "udp");
  REQUIRE(qe);
  CHECK(qe->what == events::kind::dns_query);
  CHECK(qe->query == "web.lab.test");
  CHECK(qe->query_type == "A");
  CHECK(qe->transport == "udp");
  auto reply = dns::make_address_reply(q, {asio::ip::make_address("203.0.113.10")}, 60);
  REQUIRE(reply);
  auto ae = dns::answer_event(q, *reply, "tcp");
  REQUIRE(ae);
  CHECK(ae->what == events::kind::dns_answer);
  CHECK(ae->rcode == "NOERROR");
  CHECK(ae->answers == std::vector<std::string>{"203.0.113.10"});
  auto nx = dns::make_error_reply(q, dns::rcode::nxdomain);
  CHECK(dns::answer_event(q, *nx, "udp")->rcode == "NXDOMAIN");
  CHECK(dns::answer_event(q, {}, "udp")->rcode == "DROPPED");
  CHECK_FALSE(dns::query_event(dns::bytes{std::byte{1}}, "udp"));
}

TEST_CASE("/proc/net socket lines are parsed", "[events]") {
  auto tcp = relay::parse_proc_socket_line(
      "   0: 0200F80A:8CF6 0A7100CB:0050 01 00000000:00000000 00:00000000 00000000     0        0 6187123 1 "
      "0000000000000000 20 4 30 10 -1",
      false);
  REQUIRE(tcp);
  CHECK(packet::to_string(tcp->local) == "10.248.0.2");
  CHECK(tcp->local_port == 0x8cf6);
  CHECK(packet::to_string(tcp->remote) == "203.0.113.10");
  CHECK(tcp->remote_port == 80);
  CHECK(tcp->inode == 6187123);
  auto icmp = relay::parse_proc_socket_line(
      "   59: 00000000:3830 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 6187505 2 "
      "0000000061f1da62 0",
      false);
  REQUIRE(icmp);
  CHECK(icmp->local_port == 0x3830);
  CHECK(icmp->inode == 6187505);
  auto v6 = relay::parse_proc_socket_line(
      "  1: 65706EFD0000006E0000000002000000:A1B2 B80D0120000000000000000010000000:01BB 01 00000000:00000000 "
      "00:00000000 00000000     0        0 77 1 0000000000000000 20 4 30 10 -1",
      true);
  REQUIRE(v6);
  CHECK(packet::to_string(v6->local) == "fd6e:7065:6e00::2");
  CHECK(packet::to_string(v6->remote) == "2001:db8::10");
  CHECK(v6->remote_port == 443);
  CHECK_FALSE(relay::parse_proc_socket_line("  sl  local_address rem_address   st", false));
  CHECK_FALSE(relay::parse_proc_socket_line("0: zz:1 00:0 01 0:0 0:0 0 0 0 5", false));
}

TEST_CASE("flow events carry what the flow claimed: open, close, denied, and a claim learned later", "[events]") {
  asio::io_context ctx;
  std::vector<events::event> published, claims;
  relay::services_options opts;
  opts.observe = true;
  opts.on_event = [&](const events::event& e) { published.push_back(e); };
  opts.on_claim = [&](const events::event& e) { claims.push_back(e); };
  relay::flow_services services(ctx, std::move(opts));

  relay::flow_key key;
  key.protocol = packet::proto_tcp;
  key.src = packet_test::v4(10, 248, 0, 2);
  key.src_port = 40000;
  key.dst = packet_test::v4(203, 0, 113, 10);
  key.dst_port = 443;
  relay::flow_record record;
  services.claimed(key, record);  // not announced yet: nothing
  services.opened(key, record);   // nothing sniffed yet
  record.claim.protocol = sniff::claim_protocol::tls;
  record.claim.sni = "web.lab.test";
  record.claim.alpn = {"h2", "http/1.1"};
  services.claimed(key, record);
  record.bytes_out = 517;
  services.closed(key, record);

  auto fronted = key;
  fronted.src_port = 40001;
  fronted.dst_port = 80;
  sniff::claim http;
  http.protocol = sniff::claim_protocol::http;
  http.http_method = "GET";
  http.http_host = "evil.lab.test";
  http.http_path = "/x";
  services.denied(fronted, policy::decision{policy::verdict::deny, "host-not-allowed", "", "evil.lab.test"}, http);
  services.denied(fronted, policy::decision{policy::verdict::deny, "not-allowed", "", ""});
  ctx.run();

  REQUIRE(published.size() == 4);
  CHECK(published[0].what == events::kind::flow_open);
  CHECK(published[0].sni.empty());
  CHECK(published[1].what == events::kind::flow_close);
  CHECK(published[1].sni == "web.lab.test");
  CHECK(published[1].alpn == std::vector<std::string>{"h2", "http/1.1"});
  CHECK(published[2].what == events::kind::denied);
  CHECK(published[2].policy == "host-not-allowed");
  CHECK(published[2].name == "evil.lab.test");
  CHECK(published[2].http_method == "GET");
  CHECK(published[2].http_host == "evil.lab.test");
  CHECK(published[2].http_path == "/x");
  CHECK(published[2].via.empty());
  CHECK(published[3].http_host.empty());  // a denial by address claims nothing
  REQUIRE(claims.size() == 1);  // the claim learned after the open, for the capture's comments only
  CHECK(claims[0].what == events::kind::flow_open);
  CHECK(claims[0].destination == "203.0.113.10:443");
  CHECK(claims[0].sni == "web.lab.test");
}
