// [rootful-capture] The pure parts of the --root egress capture: the NFLOG
// codec (requests decoded, kernel-shaped packet messages parsed, malformed
// ones refused), a logged packet as written (length, direction, host side),
// the host's conntrack entries of the tree's flows by their host side after
// NAT (forward_flows), the host table's capture chains, and the CLI taking
// -C egress/wire-egress/both with --root. As root, the chains are applied
// and an NFLOG group bound in a private network namespace.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/if_ether.h>

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "app/cli/build_config.hpp"
#include "backends/rootful/nft_ruleset.hpp"
#include "backends/rootful/nftables.hpp"
#include "capture/forward_flows.hpp"
#include "capture/forward_record.hpp"
#include "net/netfilter/netfilter_socket.hpp"
#include "net/netfilter/nflog_codec.hpp"
#include "tests/unit/cli_test_support.hpp"
#include "tests/unit/private_netns.hpp"

namespace nf = netpen::netfilter;
namespace cap = netpen::capture;
namespace pkt = netpen::packet;
using netpen::relay::flow_key;
using netpen::relay::host_conn;

namespace {

constexpr std::uint16_t log_msg(std::uint8_t m) { return static_cast<std::uint16_t>((NFNL_SUBSYS_ULOG << 8) | m); }

std::vector<char> request_buffer() { return std::vector<char>(nf::request_buffer_size); }

// An IPv4 packet with a TCP, UDP or ICMP echo header (ports or id, type).
std::vector<std::byte> ipv4(std::uint8_t proto, const char* src, const char* dst, std::uint16_t a, std::uint16_t b,
                            std::size_t total = 60) {
  std::vector<std::byte> p(total);
  auto put = [&](std::size_t at, unsigned v) { p[at] = std::byte{static_cast<std::uint8_t>(v)}; };
  put(0, 0x45);
  put(2, static_cast<unsigned>(total >> 8));
  put(3, static_cast<unsigned>(total & 0xff));
  put(8, 64);
  put(9, proto);
  ::inet_pton(AF_INET, src, p.data() + 12);
  ::inet_pton(AF_INET, dst, p.data() + 16);
  if (proto == pkt::proto_icmp) {
    put(20, a);  // type
    put(24, b >> 8);
    put(25, b & 0xff);  // identifier
  } else {
    put(20, a >> 8);
    put(21, a & 0xff);
    put(22, b >> 8);
    put(23, b & 0xff);
    if (proto == pkt::proto_tcp) put(32, 0x50);  // data offset 5
  }
  return p;
}

pkt::ip_address v4(const char* text) {
  pkt::ip_address a;
  ::inet_pton(AF_INET, text, a.bytes.data());
  return a;
}

nf::ct_tuple tuple(std::uint8_t proto, const char* src, const char* dst, std::uint16_t sport, std::uint16_t dport) {
  nf::ct_tuple t;
  t.family = AF_INET;
  t.proto = proto;
  ::inet_pton(AF_INET, src, t.src.data());
  ::inet_pton(AF_INET, dst, t.dst.data());
  if (proto == pkt::proto_icmp) {
    t.icmp_id = sport;
  } else {
    t.sport = sport;
    t.dport = dport;
  }
  return t;
}

// The tree's 10.249.17.2:40000 -> 203.0.113.10:80, masqueraded to 198.51.100.2:51000.
nf::conntrack_entry tcp_entry(nf::ct_event ev) {
  nf::conntrack_entry e;
  e.event = ev;
  e.original = tuple(pkt::proto_tcp, "10.249.17.2", "203.0.113.10", 40000, 80);
  e.reply = tuple(pkt::proto_tcp, "203.0.113.10", "198.51.100.2", 80, 51000);
  return e;
}

nlmsghdr* kernel_log_message(std::vector<char>& buf, std::uint16_t group, std::uint8_t hook,
                             const std::vector<std::byte>& payload, bool timestamp, std::size_t ts_size = 16) {
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = log_msg(NFULNL_MSG_PACKET);
  auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = AF_INET;
  nfg->version = NFNETLINK_V0;
  nfg->res_id = htons(group);
  nfulnl_msg_packet_hdr hdr{};
  hdr.hw_protocol = htons(ETH_P_IP);
  hdr.hook = hook;
  mnl_attr_put(nlh, NFULA_PACKET_HDR, sizeof hdr, &hdr);
  mnl_attr_put_u32(nlh, NFULA_IFINDEX_OUTDEV, htonl(7));
  if (timestamp) {
    std::vector<unsigned char> ts(ts_size, 0);
    if (ts_size == 16) {
      ts[7] = 2;   // 2 s
      ts[15] = 5;  // 5 us
    }
    mnl_attr_put(nlh, NFULA_TIMESTAMP, ts.size(), ts.data());
  }
  mnl_attr_put(nlh, NFULA_PAYLOAD, payload.size(), payload.data());
  return nlh;
}

}  // namespace

TEST_CASE("nflog codec: bind and params requests", "[rootful-capture]") {
  auto buf = request_buffer();
  const nlmsghdr* bind = nf::build_log_bind(buf.data(), 7, 28300);
  CHECK(bind->nlmsg_type == log_msg(NFULNL_MSG_CONFIG));
  CHECK((bind->nlmsg_flags & (NLM_F_REQUEST | NLM_F_ACK)) == (NLM_F_REQUEST | NLM_F_ACK));
  CHECK(bind->nlmsg_seq == 7);
  const auto* nfg = static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(bind));
  CHECK(ntohs(nfg->res_id) == 28300);
  CHECK(nfg->nfgen_family == AF_UNSPEC);
  std::array<const nlattr*, NFULA_CFG_MAX + 1> a{};
  REQUIRE(nf::detail::index_message(bind, a));
  REQUIRE(a[NFULA_CFG_CMD] != nullptr);
  CHECK(*static_cast<const std::uint8_t*>(mnl_attr_get_payload(a[NFULA_CFG_CMD])) == NFULNL_CFG_CMD_BIND);

  auto buf2 = request_buffer();
  const nlmsghdr* params = nf::build_log_params(buf2.data(), 8, 28300, 4096);
  std::array<const nlattr*, NFULA_CFG_MAX + 1> p{};
  REQUIRE(nf::detail::index_message(params, p));
  REQUIRE(p[NFULA_CFG_MODE] != nullptr);
  nfulnl_msg_config_mode mode{};
  std::memcpy(&mode, mnl_attr_get_payload(p[NFULA_CFG_MODE]), sizeof mode);
  CHECK(ntohl(mode.copy_range) == 4096);
  CHECK(mode.copy_mode == NFULNL_COPY_PACKET);
  CHECK(nf::detail::get_be32(p[NFULA_CFG_QTHRESH]) == 1u);
  CHECK(p[NFULA_CFG_FLAGS] == nullptr);  // no conntrack glue: many kernels lack it
}

TEST_CASE("nflog codec: a logged packet is parsed, others and malformed ones are not", "[rootful-capture]") {
  const auto payload = ipv4(pkt::proto_tcp, "198.51.100.2", "203.0.113.10", 51000, 80);
  auto buf = request_buffer();
  auto p = nf::parse_logged_packet(kernel_log_message(buf, 28300, NF_INET_POST_ROUTING, payload, true));
  REQUIRE(p);
  CHECK(p->group == 28300);
  CHECK(p->family == AF_INET);
  CHECK(p->hw_protocol == ETH_P_IP);
  CHECK(p->hook == NF_INET_POST_ROUTING);
  CHECK(p->outdev == 7);
  CHECK(p->indev == 0);
  CHECK(p->timestamp_ns == 2'000'005'000ULL);
  REQUIRE(p->payload.size() == payload.size());
  CHECK(std::memcmp(p->payload.data(), payload.data(), payload.size()) == 0);

  auto none = request_buffer();
  CHECK_FALSE(nf::parse_logged_packet(kernel_log_message(none, 1, NF_INET_PRE_ROUTING, payload, false))->timestamp_ns);
  auto bad_ts = request_buffer();
  CHECK_FALSE(nf::parse_logged_packet(kernel_log_message(bad_ts, 1, NF_INET_PRE_ROUTING, payload, true, 8)));
  auto other = request_buffer();
  CHECK_FALSE(nf::parse_logged_packet(nf::build_log_bind(other.data(), 1, 1)));
  auto no_hdr = request_buffer();
  nlmsghdr* nlh = mnl_nlmsg_put_header(no_hdr.data());
  nlh->nlmsg_type = log_msg(NFULNL_MSG_PACKET);
  mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg));
  CHECK_FALSE(nf::parse_logged_packet(nlh));
}

TEST_CASE("forward record: length from the IP header, direction from the hook, the host side", "[rootful-capture]") {
  const auto out = ipv4(pkt::proto_tcp, "198.51.100.2", "203.0.113.10", 51000, 80, 60);
  CHECK(cap::ip_packet_length(out) == 60);
  auto cut = out;
  cut[2] = std::byte{0x05};  // says 1340 bytes, 60 were copied
  cut[3] = std::byte{0x3c};
  CHECK(cap::ip_packet_length(cut) == 0x053c);
  CHECK(cap::ip_packet_length(std::vector<std::byte>(3)) == 3);

  nf::logged_packet lp;
  lp.hook = NF_INET_POST_ROUTING;
  lp.payload = out;
  auto r = cap::record_of(lp);
  REQUIRE(r);
  CHECK(r->outgoing);
  REQUIRE(r->host_side);
  CHECK(r->host_side->local_port == 51000);
  CHECK(r->host_side->remote == v4("203.0.113.10"));
  CHECK(r->host_side->remote_port == 80);

  const auto in = ipv4(pkt::proto_tcp, "203.0.113.10", "198.51.100.2", 80, 51000);
  lp.hook = NF_INET_PRE_ROUTING;
  lp.payload = in;
  r = cap::record_of(lp);
  REQUIRE(r);
  CHECK_FALSE(r->outgoing);
  REQUIRE(r->host_side);
  CHECK(r->host_side->local_port == 51000);
  CHECK(r->host_side->remote_port == 80);
  lp.payload = {};
  CHECK_FALSE(cap::record_of(lp));
}

TEST_CASE("forward flows: a tree's conntrack entry by its host side after NAT", "[rootful-capture]") {
  const auto side = cap::host_side_of(tcp_entry(nf::ct_event::created));
  REQUIRE(side);
  CHECK(side->protocol == pkt::proto_tcp);
  CHECK(side->local == v4("198.51.100.2"));
  CHECK(side->local_port == 51000);
  CHECK(side->remote == v4("203.0.113.10"));
  CHECK(side->remote_port == 80);
  CHECK(side->child.src == v4("10.249.17.2"));
  CHECK(side->child.src_port == 40000);
  CHECK(side->child.dst_port == 80);

  nf::conntrack_entry echo;
  echo.original = tuple(pkt::proto_icmp, "10.249.17.2", "203.0.113.10", 7, 0);
  echo.reply = tuple(pkt::proto_icmp, "203.0.113.10", "198.51.100.2", 9, 0);
  const auto echo_side = cap::host_side_of(echo);
  REQUIRE(echo_side);
  CHECK(echo_side->local_port == 9);
  CHECK(echo_side->remote_port == 0);
  CHECK(echo_side->child.src_port == 7);
  nf::conntrack_entry sctp = echo;
  sctp.original.proto = sctp.reply.proto = 132;
  CHECK_FALSE(cap::host_side_of(sctp));

  cap::forward_flows flows;
  flows.set_tree({v4("10.249.17.2")});
  flows.on_conntrack(tcp_entry(nf::ct_event::created));
  auto other = tcp_entry(nf::ct_event::created);  // the host's own flow, or another run's
  other.original = tuple(pkt::proto_tcp, "10.249.99.2", "203.0.113.10", 40001, 80);
  other.reply.dport = 51001;
  flows.on_conntrack(other);
  CHECK(flows.size() == 1);

  nf::logged_packet lp;
  const auto out = ipv4(pkt::proto_tcp, "198.51.100.2", "203.0.113.10", 51000, 80);
  lp.hook = NF_INET_POST_ROUTING;
  lp.payload = out;
  const auto r = cap::record_of(lp);
  REQUIRE(r);
  REQUIRE(r->host_side);
  const auto child = flows.child_of(*r->host_side);
  REQUIRE(child);
  CHECK(*child == side->child);
  host_conn stranger = *r->host_side;
  stranger.local_port = 51001;
  CHECK_FALSE(flows.child_of(stranger));

  flows.on_conntrack(tcp_entry(nf::ct_event::updated));
  CHECK(flows.size() == 1);
  flows.on_conntrack(tcp_entry(nf::ct_event::destroyed));
  CHECK(flows.size() == 0);
  CHECK_FALSE(flows.child_of(*r->host_side));
}

namespace {

netpen::backends::rootful::host_table_plan capture_plan() {
  netpen::backends::rootful::host_table_plan p;
  p.table = "netpen_3fa9c1";
  p.veth = "np3fa9c1";
  p.child4 = "10.249.17.2";
  p.gateway4 = "10.249.17.1";
  p.child6 = "fd6e:7065:6e01:11::2";
  p.gateway6 = "fd6e:7065:6e01:11::1";
  p.log_group = 28300;
  return p;
}

}  // namespace

TEST_CASE("host table: the egress capture's NFLOG chains", "[rootful-capture]") {
  using netpen::backends::rootful::host_table_script;
  auto p = capture_plan();
  const auto s = host_table_script(p);
  REQUIRE(s);
  CHECK(s->find("chain capture_in {\n\t\ttype filter hook prerouting priority -110; policy accept;\n"
                "\t\tiifname != \"np3fa9c1\" ct original ip saddr 10.249.17.2 log group 28300\n"
                "\t\tiifname != \"np3fa9c1\" ct original ip6 saddr fd6e:7065:6e01:11::2 log group 28300\n") !=
        std::string::npos);
  CHECK(s->find("chain capture_out {\n\t\ttype filter hook postrouting priority 110; policy accept;\n"
                "\t\toifname != \"np3fa9c1\" ct original ip saddr 10.249.17.2 log group 28300\n") != std::string::npos);
  p.log_group.reset();
  const auto plain = host_table_script(p);
  REQUIRE(plain);
  CHECK(plain->find("log group") == std::string::npos);
  CHECK(plain->find("capture_") == std::string::npos);
}

TEST_CASE("cli: --root takes every capture point", "[rootful-capture]") {
  using namespace netpen::app;
  for (const char* at : {"child", "egress", "wire-egress", "both"}) {
    INFO(at);
    auto r = cli_test::parse({"--root", "-o", "/tmp/x.pcapng", "-C", at, "true"});
    REQUIRE(r);
    const auto* c = std::get_if<run_config>(&*r);
    REQUIRE(c != nullptr);
    CHECK(c->backend == backend_kind::rootful);
  }
}

TEST_CASE("nflog: the chains applied and a group bound in a private netns", "[rootful-capture][root]") {
  using namespace std::chrono_literals;
  netns_test::check_in_private_netns(
      [] {
        using namespace netpen::backends::rootful;
        auto nft = netns_test::expect_ok(nft_session::open(), "open");
        const auto p = capture_plan();
        netns_test::expect_ok(nft.run(netns_test::expect_ok(host_table_script(p), "script")), "run");
        const auto listed = netns_test::expect_ok(nft.list_table("inet", p.table), "list");
        netns_test::expect(listed.find("ct original ip saddr 10.249.17.2 log group 28300") != std::string::npos,
                           "log rule missing: " + listed);
        auto first = nf::netlink_socket::open_log(28300);
        if (!first && first.error().code == "nflog") return "skip: " + first.error().message;
        netns_test::expect(first.has_value(), "bind: " + (first ? std::string() : first.error().message));
        auto second = nf::netlink_socket::open_log(28300);
        netns_test::expect(!second && second.error().code == "nflog-busy", "a second bind of the group is busy");
        auto another = nf::netlink_socket::open_log(28301);
        netns_test::expect(another.has_value(), "another group binds");
        return std::string();
      },
      20s);
}
