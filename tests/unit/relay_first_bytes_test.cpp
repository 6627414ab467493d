// Unit tests for the rootful gate's first-bytes reassembly and sniffing
// (relay/first_bytes.hpp): segments in order, out of order, retransmitted
// and overlapping, the byte and segment bounds, sequence wrap-around; then
// the per-flow table: a flow starts at its SYN, its HTTP request or TLS
// ClientHello split across segments gives its claim once, FIN/RST and
// forget() end it, the flow bound; and UDP/443 datagrams to the QUIC sniffer.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "net/packet/frame.hpp"
#include "net/relay/first_bytes.hpp"

using netpen::relay::first_bytes;
using netpen::relay::flow_key;
using netpen::relay::stream_reassembly;
namespace tcp_flag = netpen::packet::tcp_flag;

namespace {

std::vector<std::byte> bytes(std::string_view s) {
  std::vector<std::byte> out(s.size());
  std::memcpy(out.data(), s.data(), s.size());
  return out;
}

std::string text(const std::vector<std::byte>& b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

// Adds `s` at stream offset `offset` (the stream starts at `isn` + 1).
std::string add(stream_reassembly& r, std::uint32_t isn, std::uint32_t offset, std::string_view s) {
  const auto b = bytes(s);
  return text(r.add(isn + 1 + offset, b));
}

flow_key key(std::uint16_t src_port, std::uint8_t protocol = netpen::packet::proto_tcp, std::uint16_t dst_port = 80) {
  flow_key k;
  k.protocol = protocol;
  k.src.bytes = {10, 249, 0, 2};
  k.dst.bytes = {203, 0, 113, 10};
  k.src_port = src_port;
  k.dst_port = dst_port;
  return k;
}

}  // namespace

TEST_CASE("first bytes: in order, out of order, retransmits and overlaps", "[relay][first-bytes]") {
  const std::uint32_t isn = 1000;
  stream_reassembly r(isn + 1, 1024);
  CHECK(add(r, isn, 0, "GET ") == "GET ");
  CHECK(add(r, isn, 8, "x HTTP") == "");  // a gap at 4..8: held
  CHECK(r.held() == 1);
  CHECK(add(r, isn, 0, "GET ") == "");    // a retransmit of what was handed out
  CHECK(add(r, isn, 2, "T /inde") == "/inde HTTP");  // overlaps both sides: only its new bytes, then the held ones
  CHECK(r.held() == 0);
  CHECK(r.delivered() == 14);
  CHECK(add(r, isn, 8, "x HTTP/1.1") == "/1.1");  // a longer retransmit: its tail is new
  CHECK(add(r, isn, 20, "b") == "");
  CHECK(add(r, isn, 20, "bcd") == "");  // the longer copy of the same offset is kept
  CHECK(add(r, isn, 18, "\r\n") == "\r\nbcd");
}

TEST_CASE("first bytes: bounded bytes and held segments", "[relay][first-bytes]") {
  const std::uint32_t isn = 0;
  stream_reassembly r(isn + 1, 8);
  CHECK(add(r, isn, 20, "far beyond") == "");  // past the limit: never held
  CHECK(r.held() == 0);
  CHECK(add(r, isn, 0, "0123456789") == "01234567");
  CHECK(r.full());
  CHECK(add(r, isn, 8, "89") == "");

  stream_reassembly many(isn + 1, 4096);
  for (std::uint32_t i = 0; i < 40; ++i) add(many, isn, 10 + 2 * i, "x");  // gaps everywhere
  CHECK(many.held() == stream_reassembly::max_held_segments);
  CHECK(add(many, isn, 0, "0123456789").size() == 11);  // 10 bytes, then the first held one
}

TEST_CASE("first bytes: sequence numbers wrap", "[relay][first-bytes]") {
  const std::uint32_t isn = 0xfffffffc;
  stream_reassembly r(isn + 1, 64);
  CHECK(add(r, isn, 6, "world") == "");  // wraps past 0
  CHECK(add(r, isn, 0, "hello ") == "hello world");
  CHECK(text(r.add(isn - 10, bytes("old"))) == "");  // before the start: nothing
}

TEST_CASE("first bytes: an HTTP request head split across segments gives its claim once", "[relay][first-bytes]") {
  first_bytes table;
  const auto k = key(40000);
  const std::uint32_t isn = 7;
  CHECK_FALSE(table.on_segment(k, {isn + 1, tcp_flag::ack, bytes("GET / HTTP/1.1\r\n")}));  // no SYN seen: ignored
  CHECK(table.tracked() == 0);
  CHECK_FALSE(table.on_segment(k, {isn, tcp_flag::syn, {}}));
  CHECK_FALSE(table.on_segment(k, {isn, tcp_flag::syn, {}}));  // a retransmitted SYN
  CHECK_FALSE(table.on_segment(k, {isn + 1, tcp_flag::ack, {}}));
  const auto head = std::string("GET /a/b?secret=1 HTTP/1.1\r\nHost: Web.Lab.Test:8080\r\nAccept: */*\r\n\r\n");
  CHECK_FALSE(table.on_segment(k, {isn + 1 + 20, tcp_flag::ack, bytes(std::string_view(head).substr(20))}));
  const auto claim = table.on_segment(k, {isn + 1, tcp_flag::ack | tcp_flag::psh, bytes(std::string_view(head).substr(0, 20))});
  REQUIRE(claim);
  CHECK(claim->protocol == netpen::sniff::claim_protocol::http);
  CHECK(claim->http_method == "GET");
  CHECK(claim->http_host == "web.lab.test");
  CHECK(claim->http_path == "/a/b");
  CHECK(table.tracked() == 0);  // done: forgotten
  CHECK_FALSE(table.on_segment(k, {isn + 1, tcp_flag::ack, bytes(head)}));
}

TEST_CASE("first bytes: bytes that are neither TLS nor HTTP, FIN, RST and the flow bound", "[relay][first-bytes]") {
  first_bytes table;
  CHECK_FALSE(table.on_segment(key(1), {100, tcp_flag::syn, {}}));
  CHECK_FALSE(table.on_segment(key(1), {101, tcp_flag::ack, bytes("SSH-2.0-OpenSSH_9.2\r\n")}));
  CHECK(table.tracked() == 0);  // nothing to claim: done, forgotten

  CHECK_FALSE(table.on_segment(key(2), {100, tcp_flag::syn, {}}));
  CHECK_FALSE(table.on_segment(key(2), {101, tcp_flag::ack | tcp_flag::fin, {}}));
  CHECK(table.tracked() == 0);
  CHECK_FALSE(table.on_segment(key(3), {100, tcp_flag::syn, {}}));
  CHECK_FALSE(table.on_segment(key(3), {101, tcp_flag::rst, {}}));
  CHECK(table.tracked() == 0);

  CHECK_FALSE(table.on_segment(key(4), {100, tcp_flag::syn, {}}));
  CHECK_FALSE(table.on_segment(key(4), {101, tcp_flag::ack, bytes("GE")}));
  CHECK(table.tracked() == 1);
  table.forget(key(4));
  CHECK(table.tracked() == 0);

  for (std::uint16_t p = 1; p <= first_bytes::max_flows + 10; ++p) table.on_segment(key(p), {1, tcp_flag::syn, {}});
  CHECK(table.tracked() == first_bytes::max_flows);
  CHECK_FALSE(table.on_segment(key(0), {1, tcp_flag::syn | tcp_flag::ack, {}}));  // a SYN-ACK starts nothing
}

TEST_CASE("first bytes: UDP/443 datagrams go to the QUIC sniffer, others are ignored", "[relay][first-bytes]") {
  first_bytes table;
  const auto junk = bytes("not a QUIC Initial at all, just some bytes");
  CHECK_FALSE(table.on_datagram(key(5, netpen::packet::proto_udp, 53), junk));
  CHECK(table.tracked() == 0);
  CHECK_FALSE(table.on_datagram(key(5, netpen::packet::proto_udp, 443), junk));  // done at once, no claim
  CHECK(table.tracked() == 0);
  CHECK_FALSE(table.on_datagram(key(5, netpen::packet::proto_udp, 443), junk));  // sniffed once per flow
}
