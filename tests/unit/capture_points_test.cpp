// The run's capture (tree_capture): the files each capture point writes,
// the egress point's rebuilt packets with the host's addresses, per-packet
// process (and claim) comments and NRBs from the event stream, all read
// back with the strict pcapng reader.
#include <catch2/catch.hpp>

#include <asio/buffer.hpp>

#include <filesystem>
#include <string>

#include "capture/tree_capture.hpp"
#include "net/packet/frame.hpp"
#include "tests/unit/packet_test_util.hpp"
#include "tests/unit/pcapng_reader.hpp"

namespace cap = netpen::capture;
namespace rd = pcapng_test;
using netpen::relay::host_conn;
using netpen::relay::host_direction;
using netpen::relay::host_close;
using packet_test::v4;

namespace {

// A relayed TCP flow: the child's 10.248.0.2:40000 -> 203.0.113.10:80 on a
// host socket 198.51.100.2:51000 -> 203.0.113.10:80.
host_conn web_conn() {
  host_conn c;
  c.protocol = netpen::packet::proto_tcp;
  c.local = v4(198, 51, 100, 2);
  c.local_port = 51000;
  c.remote = v4(203, 0, 113, 10);
  c.remote_port = 80;
  c.child.protocol = netpen::packet::proto_tcp;
  c.child.src = v4(10, 248, 0, 2);
  c.child.src_port = 40000;
  c.child.dst = c.remote;
  c.child.dst_port = 80;
  return c;
}

netpen::events::event flow_open_by_curl() {
  netpen::events::event e;
  e.what = netpen::events::kind::flow_open;
  e.protocol = "tcp";
  e.source = "10.248.0.2:40000";
  e.destination = "203.0.113.10:80";
  e.process = netpen::events::process_info{4242, 7, "curl -s http://web.lab.test/"};
  return e;
}

netpen::events::event dns_answer() {
  netpen::events::event e;
  e.what = netpen::events::kind::dns_answer;
  e.query = "web.lab.test";
  e.answers = {"203.0.113.10"};
  return e;
}

std::string interface_name(const std::vector<rd::block>& blocks) {
  const auto idbs = rd::all_of<rd::interface_description>(blocks);
  REQUIRE(idbs.size() == 1);
  const auto* name = rd::find_option(idbs[0].options, 2);
  return name ? name->text() : std::string();
}

}  // namespace

TEST_CASE("capture points: the files each point writes", "[capture]") {
  using paths = std::vector<std::string>;
  CHECK(cap::tree_capture::paths_for("/tmp/run.pcapng", cap::point::child) == paths{"/tmp/run.pcapng"});
  CHECK(cap::tree_capture::paths_for("/tmp/run.pcapng", cap::point::egress) == paths{"/tmp/run.pcapng"});
  CHECK(cap::tree_capture::paths_for("/tmp/run.pcapng", cap::point::wire_egress) == paths{"/tmp/run.pcapng"});
  CHECK(cap::tree_capture::paths_for("/tmp/run.pcapng", cap::point::both) ==
        paths{"/tmp/run.child.pcapng", "/tmp/run.egress.pcapng"});
  CHECK(cap::tree_capture::paths_for("out", cap::point::both) == paths{"out.child.pcapng", "out.egress.pcapng"});
  CHECK(cap::tree_capture::paths_for(".pcapng", cap::point::both) ==
        paths{".pcapng.child.pcapng", ".pcapng.egress.pcapng"});
}

TEST_CASE("capture points: egress rebuilds the host side, commented and named", "[capture]") {
  rd::temp_dir dir;
  const auto path = dir.file("egress.pcapng");
  auto opened = cap::tree_capture::open(path, cap::point::egress, "command: curl; backend: rootless", std::nullopt);
  REQUIRE(opened);
  auto& capture = **opened;
  REQUIRE((*opened)->start());
  CHECK(capture.child() == nullptr);
  auto* egress = capture.egress();
  REQUIRE(egress != nullptr);

  capture.on_event(dns_answer());
  const auto c = web_conn();
  auto pending = c;
  pending.local = {};  // a TCP socket's local address is known once connected
  egress->opened(pending);
  capture.on_event(flow_open_by_curl());
  egress->connected(c);
  const std::string request = "GET / HTTP/1.1\r\nHost: web.lab.test\r\n\r\n";
  const asio::const_buffer b(request.data(), request.size());
  egress->data(c, host_direction::sent, std::span(&b, 1), request.size());
  egress->fin(c, host_direction::received);
  egress->fin(c, host_direction::sent);
  egress->closed(c, host_close::normal);
  capture.close();
  CHECK(capture.errors().empty());

  const auto blocks = rd::reader::parse_file(path);
  CHECK(interface_name(blocks) == "egress");
  const auto packets = rd::all_of<rd::enhanced_packet>(blocks);
  REQUIRE(packets.size() == 7);  // SYN, SYN-ACK, ACK, data, FIN, FIN, ACK
  CHECK(capture.packets_written() == 7);
  bool request_seen = false;
  for (const auto& p : packets) {
    const auto f = netpen::packet::parse_frame(p.data);
    REQUIRE(f);
    CHECK(((f->src == c.local && f->dst == c.remote) || (f->src == c.remote && f->dst == c.local)));
    const auto* comment = rd::find_option(p.options, 1);
    REQUIRE(comment != nullptr);
    CHECK(comment->text() == "pid 4242 (sandbox pid 7): curl -s http://web.lab.test/");
    const std::string payload(reinterpret_cast<const char*>(f->payload.data()), f->payload.size());
    if (payload == request) request_seen = true;
  }
  CHECK(request_seen);
  const auto names = rd::all_of<rd::name_resolution>(blocks);
  REQUIRE(names.size() == 1);
  CHECK(names[0].records.at(0).names == std::vector<std::string>{"web.lab.test"});
}

TEST_CASE("capture points: both writes the child and the egress file", "[capture]") {
  rd::temp_dir dir;
  const auto path = dir.file("run.pcapng");
  auto opened = cap::tree_capture::open(path, cap::point::both, "command: true", std::nullopt);
  REQUIRE(opened);
  auto& capture = **opened;
  REQUIRE((*opened)->start());
  REQUIRE(capture.child() != nullptr);
  REQUIRE(capture.egress() != nullptr);
  capture.on_event(dns_answer());
  capture.close();
  CHECK_FALSE(std::filesystem::exists(path));
  const auto child = rd::reader::parse_file(dir.file("run.child.pcapng"));
  const auto egress = rd::reader::parse_file(dir.file("run.egress.pcapng"));
  CHECK(interface_name(child) == "tap0");
  CHECK(interface_name(egress) == "egress");
  CHECK(rd::all_of<rd::name_resolution>(child).size() == 1);
  CHECK(rd::all_of<rd::name_resolution>(egress).size() == 1);
}

TEST_CASE("capture comments: what a flow claimed, at its open or learned later", "[capture]") {
  auto open = flow_open_by_curl();
  CHECK(cap::comment_for(open) == "pid 4242 (sandbox pid 7): curl -s http://web.lab.test/");
  open.sni = "web.lab.test";
  open.alpn = {"h2", "http/1.1"};
  CHECK(cap::comment_for(open) == "pid 4242 (sandbox pid 7): curl -s http://web.lab.test/; sni=web.lab.test "
                                  "alpn=h2,http/1.1");
  open.process.reset();
  CHECK(cap::comment_for(open) == "sni=web.lab.test alpn=h2,http/1.1");
  open.sni.clear();
  open.alpn.clear();
  CHECK(cap::comment_for(open).empty());

  // Egress: the flow opens with its process only; once its claim is known
  // (run_outputs::on_claim hands the capture the flow_open again), its later
  // packets name it too; its close drops the comment.
  rd::temp_dir dir;
  const auto path = dir.file("claim.pcapng");
  auto opened = cap::tree_capture::open(path, cap::point::egress, "command: curl; backend: rootless", std::nullopt);
  REQUIRE(opened);
  auto& capture = **opened;
  REQUIRE(capture.start());
  auto* egress = capture.egress();
  REQUIRE(egress != nullptr);
  const auto c = web_conn();
  auto pending = c;
  pending.local = {};
  egress->opened(pending);
  capture.on_event(flow_open_by_curl());
  egress->connected(c);  // SYN, SYN-ACK, ACK: the process only
  auto claimed = flow_open_by_curl();
  claimed.http_method = "GET";
  claimed.http_host = "web.lab.test";
  claimed.http_path = "/";
  capture.on_event(claimed);
  const std::string request = "GET /?secret=1 HTTP/1.1\r\nHost: web.lab.test\r\n\r\n";
  const asio::const_buffer b(request.data(), request.size());
  egress->data(c, host_direction::sent, std::span(&b, 1), request.size());
  auto close = flow_open_by_curl();
  close.what = netpen::events::kind::flow_close;
  capture.on_event(close);
  egress->closed(c, host_close::reset_sent);
  capture.close();

  const auto packets = rd::all_of<rd::enhanced_packet>(rd::reader::parse_file(path));
  REQUIRE(packets.size() == 5);  // SYN, SYN-ACK, ACK, data, RST
  std::vector<std::string> comments;
  for (const auto& p : packets) {
    const auto* comment = rd::find_option(p.options, 1);
    comments.push_back(comment ? comment->text() : "");
  }
  CHECK(comments[0] == "pid 4242 (sandbox pid 7): curl -s http://web.lab.test/");
  CHECK(comments[2] == "pid 4242 (sandbox pid 7): curl -s http://web.lab.test/");
  CHECK(comments[3] == "pid 4242 (sandbox pid 7): curl -s http://web.lab.test/; GET web.lab.test/");
  CHECK(comments.back().empty());  // after the close
}
