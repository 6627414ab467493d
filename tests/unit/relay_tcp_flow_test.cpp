// [relay] A tcp_flow driven through a test flow_context: the only seam a flow
// has to the relay. The child's side is scripted segments; what the flow
// sends the child comes back through a tap_writer on a socketpair; the host
// side is a loopback listener, reached through the DNS route (port 53 on any
// address goes to settings().dns_tcp), so nothing leaves the machine. A
// denied flow never connects at all.
#include "tests/unit/relay_tcp_rig.hpp"

using namespace relay_test;

TEST_CASE("tcp_flow: a denied flow is reset at once, says why, and never connects", "[relay][tcp_flow]") {
  rig r;
  r.ctx->verdict = policy::decision{policy::verdict::deny, "deny-rule", "203.0.113.10 (--deny)", {}};
  r.flow_key_dst_port = 80;
  r.start(r.key_to(v4({203, 0, 113, 10}), 80));  // judged before any connect: nothing is sent there
  const auto rst = r.next_frame();
  REQUIRE(rst);
  CHECK((rst->flags & flag::rst) != 0);
  CHECK(rst->ack == child_isn + 1);
  REQUIRE(r.finished_within(2s));
  std::lock_guard lock(r.ctx->mu);
  CHECK(r.ctx->judged == 1);
  REQUIRE(r.ctx->denials.size() == 1);
  CHECK(r.ctx->denials[0].reason == "deny-rule");
  CHECK(r.ctx->opened_records.empty());  // no flow_open for a denied flow
  REQUIRE(r.ctx->closed_records.size() == 1);
  CHECK_FALSE(r.ctx->closed_records[0].announced);  // so no flow_close either
}

TEST_CASE("tcp_flow: the host connect comes before the SYN-ACK, then bytes flow both ways", "[relay][tcp_flow]") {
  rig r;
  asio::io_context server_io;
  asio::ip::tcp::acceptor listener(server_io, asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  r.ctx->settings_.dns_tcp = listener.local_endpoint();
  r.flow_key_dst_port = 53;
  r.start(r.key_to(v4({10, 248, 0, 1}), 53));  // port 53: the DNS service, never judged

  asio::ip::tcp::socket server(server_io);
  listener.accept(server);  // the host side connects first
  const auto syn_ack = r.next_frame();
  REQUIRE(syn_ack);
  CHECK(syn_ack->flags == (flag::syn | flag::ack));
  CHECK(syn_ack->seq == our_isn);
  CHECK(syn_ack->ack == child_isn + 1);

  r.send(child_isn + 1, our_isn + 1, flag::ack | flag::psh, "ping");
  std::array<char, 4> got{};
  asio::read(server, asio::buffer(got));
  CHECK(std::string(got.data(), 4) == "ping");

  asio::write(server, asio::buffer(std::string_view("pong!")));
  const auto data = r.next_data_frame();
  REQUIRE(data);
  CHECK(data->payload == "pong!");
  CHECK(data->seq == our_isn + 1);

  // The remote closes: our FIN follows its data; the child closes too.
  server.shutdown(asio::ip::tcp::socket::shutdown_send);
  const auto fin = r.next_data_frame();
  REQUIRE(fin);
  CHECK((fin->flags & flag::fin) != 0);
  r.send(child_isn + 5, our_isn + 7, flag::ack | flag::fin);
  asio::error_code ec;
  std::array<char, 1> eof{};
  server.read_some(asio::buffer(eof), ec);
  CHECK(ec == asio::error::eof);  // the child's FIN became the host socket's half-close
  std::lock_guard lock(r.ctx->mu);
  CHECK(r.ctx->judged == 0);
  REQUIRE(r.ctx->opened_records.size() == 1);
}

TEST_CASE("tcp_flow: a refused host connect is a reset to the child and a `refused` end", "[relay][tcp_flow]") {
  rig r;
  asio::io_context server_io;
  asio::ip::tcp::endpoint closed;
  {
    asio::ip::tcp::acceptor probe(server_io, asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    closed = probe.local_endpoint();  // bound, then closed without listening
  }
  r.ctx->settings_.dns_tcp = closed;
  r.flow_key_dst_port = 53;
  r.start(r.key_to(v4({10, 248, 0, 1}), 53));
  const auto rst = r.next_frame();
  REQUIRE(rst);
  CHECK((rst->flags & flag::rst) != 0);
  REQUIRE(r.finished_within(2s));
  std::lock_guard lock(r.ctx->mu);
  REQUIRE(r.ctx->closed_records.size() == 1);
  CHECK(r.ctx->closed_records[0].end == "refused");
  CHECK(r.ctx->icmp_errors == 0);  // a refused connect is TCP's own answer
}
