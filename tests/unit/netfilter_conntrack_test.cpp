// Unit tests for the ctnetlink codec (net/netfilter/conntrack_codec.hpp):
// kernel-shaped NEW/DELETE events built with libmnl (nested tuples for IPv4,
// IPv6, TCP, UDP, ICMP, counters) are parsed; malformed ones are refused;
// the flush request is decoded field by field.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_conntrack_tcp.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>

#include <array>
#include <cstring>
#include <vector>

#include "net/netfilter/conntrack_codec.hpp"

namespace nf = netpen::netfilter;

namespace {

constexpr std::uint16_t ct_msg(std::uint8_t m) { return static_cast<std::uint16_t>((NFNL_SUBSYS_CTNETLINK << 8) | m); }

struct tuple_spec {
  int family = AF_INET;
  std::vector<std::uint8_t> src, dst;
  std::uint8_t proto = IPPROTO_UDP;
  std::uint16_t sport = 0, dport = 0;
  std::uint16_t icmp_id = 0;
  std::uint8_t icmp_type = 0, icmp_code = 0;
};

void put_tuple(nlmsghdr* nlh, std::uint16_t type, const tuple_spec& t) {
  nlattr* tuple = mnl_attr_nest_start(nlh, type);
  nlattr* ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
  const bool v4 = t.family == AF_INET;
  mnl_attr_put(nlh, v4 ? CTA_IP_V4_SRC : CTA_IP_V6_SRC, t.src.size(), t.src.data());
  mnl_attr_put(nlh, v4 ? CTA_IP_V4_DST : CTA_IP_V6_DST, t.dst.size(), t.dst.data());
  mnl_attr_nest_end(nlh, ip);
  nlattr* proto = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
  mnl_attr_put_u8(nlh, CTA_PROTO_NUM, t.proto);
  if (t.proto == IPPROTO_ICMP) {
    mnl_attr_put_u16(nlh, CTA_PROTO_ICMP_ID, htons(t.icmp_id));
    mnl_attr_put_u8(nlh, CTA_PROTO_ICMP_TYPE, t.icmp_type);
    mnl_attr_put_u8(nlh, CTA_PROTO_ICMP_CODE, t.icmp_code);
  } else if (t.proto == IPPROTO_ICMPV6) {
    mnl_attr_put_u16(nlh, CTA_PROTO_ICMPV6_ID, htons(t.icmp_id));
    mnl_attr_put_u8(nlh, CTA_PROTO_ICMPV6_TYPE, t.icmp_type);
    mnl_attr_put_u8(nlh, CTA_PROTO_ICMPV6_CODE, t.icmp_code);
  } else {
    mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(t.sport));
    mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(t.dport));
  }
  mnl_attr_nest_end(nlh, proto);
  mnl_attr_put_u16(nlh, CTA_TUPLE_ZONE, 0);  // not used by the parser
  mnl_attr_nest_end(nlh, tuple);
}

void put_counters(nlmsghdr* nlh, std::uint16_t type, std::uint64_t packets, std::uint64_t bytes) {
  nlattr* c = mnl_attr_nest_start(nlh, type);
  mnl_attr_put_u64(nlh, CTA_COUNTERS_PACKETS, htobe64(packets));
  mnl_attr_put_u64(nlh, CTA_COUNTERS_BYTES, htobe64(bytes));
  mnl_attr_nest_end(nlh, c);
}

nlmsghdr* start(std::vector<char>& buf, std::uint8_t msg, std::uint16_t flags, int family) {
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = ct_msg(msg);
  nlh->nlmsg_flags = flags;
  auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = static_cast<std::uint8_t>(family);
  nfg->version = NFNETLINK_V0;
  return nlh;
}

std::vector<std::uint8_t> v4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) { return {a, b, c, d}; }
std::vector<std::uint8_t> v6(std::uint8_t last) {
  std::vector<std::uint8_t> a(16, 0);
  a[0] = 0xfd;
  a[15] = last;
  return a;
}

const tuple_spec udp_orig{AF_INET, v4(10, 0, 0, 2), v4(192, 0, 2, 1), IPPROTO_UDP, 40000, 53};
const tuple_spec udp_reply{AF_INET, v4(192, 0, 2, 1), v4(10, 0, 0, 2), IPPROTO_UDP, 53, 40000};

// A destroy event the way the kernel sends it with accounting on.
nlmsghdr* udp_destroy(std::vector<char>& buf) {
  nlmsghdr* nlh = start(buf, IPCTNL_MSG_CT_DELETE, 0, AF_INET);
  put_tuple(nlh, CTA_TUPLE_ORIG, udp_orig);
  put_tuple(nlh, CTA_TUPLE_REPLY, udp_reply);
  mnl_attr_put_u32(nlh, CTA_ID, htonl(0x11223344));
  mnl_attr_put_u32(nlh, CTA_STATUS, htonl(IPS_CONFIRMED | IPS_SEEN_REPLY));
  mnl_attr_put_u32(nlh, CTA_TIMEOUT, htonl(0));
  put_counters(nlh, CTA_COUNTERS_ORIG, 2, 0x100000000ULL + 5);  // above 32 bits
  put_counters(nlh, CTA_COUNTERS_REPLY, 3, 300);
  mnl_attr_put_u32(nlh, CTA_MARK, htonl(0x10));
  return nlh;
}

std::vector<char> buffer() { return std::vector<char>(nf::request_buffer_size); }

}  // namespace

TEST_CASE("conntrack: a UDP destroy event with counters, mark, id, status", "[netfilter]") {
  auto buf = buffer();
  const auto e = nf::parse_conntrack(udp_destroy(buf));
  REQUIRE(e);
  CHECK(e->event == nf::ct_event::destroyed);
  CHECK(e->original.family == AF_INET);
  CHECK(e->original.proto == IPPROTO_UDP);
  CHECK(std::memcmp(e->original.src.data(), udp_orig.src.data(), 4) == 0);
  CHECK(std::memcmp(e->original.dst.data(), udp_orig.dst.data(), 4) == 0);
  CHECK(e->original.sport == 40000);
  CHECK(e->original.dport == 53);
  CHECK(e->reply.sport == 53);
  CHECK(e->reply.dport == 40000);
  CHECK(std::memcmp(e->reply.src.data(), udp_orig.dst.data(), 4) == 0);
  CHECK(e->id == 0x11223344);
  CHECK(e->status == (IPS_CONFIRMED | IPS_SEEN_REPLY));
  CHECK(e->mark == 0x10);
  CHECK(e->orig_packets == 2);
  CHECK(e->orig_bytes == 0x100000005ULL);
  CHECK(e->reply_packets == 3);
  CHECK(e->reply_bytes == 300);
  CHECK_FALSE(e->tcp_state);
}

TEST_CASE("conntrack: NEW with NLM_F_CREATE is created, without it updated, TCP state", "[netfilter]") {
  auto buf = buffer();
  const tuple_spec orig{AF_INET6, v6(2), v6(1), IPPROTO_TCP, 50000, 443};
  const tuple_spec reply{AF_INET6, v6(1), v6(2), IPPROTO_TCP, 443, 50000};
  const auto build = [&](std::uint16_t flags, std::uint8_t state) {
    nlmsghdr* nlh = start(buf, IPCTNL_MSG_CT_NEW, flags, AF_INET6);
    put_tuple(nlh, CTA_TUPLE_ORIG, orig);
    put_tuple(nlh, CTA_TUPLE_REPLY, reply);
    mnl_attr_put_u32(nlh, CTA_STATUS, htonl(IPS_CONFIRMED));
    nlattr* info = mnl_attr_nest_start(nlh, CTA_PROTOINFO);
    nlattr* tcp = mnl_attr_nest_start(nlh, CTA_PROTOINFO_TCP);
    mnl_attr_put_u8(nlh, CTA_PROTOINFO_TCP_STATE, state);
    mnl_attr_put_u8(nlh, CTA_PROTOINFO_TCP_WSCALE_ORIGINAL, 7);
    mnl_attr_nest_end(nlh, tcp);
    mnl_attr_nest_end(nlh, info);
    return nlh;
  };
  auto e = nf::parse_conntrack(build(NLM_F_CREATE | NLM_F_EXCL, TCP_CONNTRACK_SYN_SENT));
  REQUIRE(e);
  CHECK(e->event == nf::ct_event::created);
  CHECK(e->original.family == AF_INET6);
  CHECK(e->original.proto == IPPROTO_TCP);
  CHECK(std::memcmp(e->original.src.data(), orig.src.data(), 16) == 0);
  CHECK(std::memcmp(e->original.dst.data(), orig.dst.data(), 16) == 0);
  CHECK(e->original.sport == 50000);
  CHECK(e->original.dport == 443);
  REQUIRE(e->tcp_state);
  CHECK(*e->tcp_state == TCP_CONNTRACK_SYN_SENT);
  CHECK(e->orig_packets == 0);  // no accounting attributes

  e = nf::parse_conntrack(build(0, TCP_CONNTRACK_ESTABLISHED));
  REQUIRE(e);
  CHECK(e->event == nf::ct_event::updated);
  CHECK(e->tcp_state == TCP_CONNTRACK_ESTABLISHED);
}

TEST_CASE("conntrack: ICMP and ICMPv6 tuples carry id, type and code", "[netfilter]") {
  auto buf = buffer();
  nlmsghdr* nlh = start(buf, IPCTNL_MSG_CT_NEW, NLM_F_CREATE, AF_INET);
  tuple_spec orig{AF_INET, v4(10, 0, 0, 2), v4(1, 1, 1, 1), IPPROTO_ICMP};
  orig.icmp_id = 0x1234;
  orig.icmp_type = 8;
  tuple_spec reply{AF_INET, v4(1, 1, 1, 1), v4(10, 0, 0, 2), IPPROTO_ICMP};
  reply.icmp_id = 0x1234;
  put_tuple(nlh, CTA_TUPLE_ORIG, orig);
  put_tuple(nlh, CTA_TUPLE_REPLY, reply);
  auto e = nf::parse_conntrack(nlh);
  REQUIRE(e);
  CHECK(e->original.proto == IPPROTO_ICMP);
  CHECK(e->original.icmp_id == 0x1234);
  CHECK(e->original.icmp_type == 8);
  CHECK(e->original.icmp_code == 0);
  CHECK(e->original.sport == 0);
  CHECK(e->status == 0);  // absent

  nlh = start(buf, IPCTNL_MSG_CT_DELETE, 0, AF_INET6);
  tuple_spec orig6{AF_INET6, v6(2), v6(1), IPPROTO_ICMPV6};
  orig6.icmp_id = 7;
  orig6.icmp_type = 128;
  orig6.icmp_code = 1;
  put_tuple(nlh, CTA_TUPLE_ORIG, orig6);
  put_tuple(nlh, CTA_TUPLE_REPLY, orig6);
  e = nf::parse_conntrack(nlh);
  REQUIRE(e);
  CHECK(e->event == nf::ct_event::destroyed);
  CHECK(e->original.proto == IPPROTO_ICMPV6);
  CHECK(e->original.icmp_id == 7);
  CHECK(e->original.icmp_type == 128);
  CHECK(e->original.icmp_code == 1);
}

TEST_CASE("conntrack: old 32-bit counters are read too", "[netfilter]") {
  auto buf = buffer();
  nlmsghdr* nlh = start(buf, IPCTNL_MSG_CT_DELETE, 0, AF_INET);
  put_tuple(nlh, CTA_TUPLE_ORIG, udp_orig);
  put_tuple(nlh, CTA_TUPLE_REPLY, udp_reply);
  nlattr* c = mnl_attr_nest_start(nlh, CTA_COUNTERS_ORIG);
  mnl_attr_put_u32(nlh, CTA_COUNTERS32_PACKETS, htonl(4));
  mnl_attr_put_u32(nlh, CTA_COUNTERS32_BYTES, htonl(400));
  mnl_attr_nest_end(nlh, c);
  const auto e = nf::parse_conntrack(nlh);
  REQUIRE(e);
  CHECK(e->orig_packets == 4);
  CHECK(e->orig_bytes == 400);
}

TEST_CASE("conntrack: other messages are not conntrack entries", "[netfilter]") {
  auto buf = buffer();
  nlmsghdr* nlh = udp_destroy(buf);
  nlh->nlmsg_type = ct_msg(IPCTNL_MSG_CT_GET_STATS);
  CHECK_FALSE(nf::parse_conntrack(nlh));
  nlh->nlmsg_type = static_cast<std::uint16_t>((NFNL_SUBSYS_QUEUE << 8) | IPCTNL_MSG_CT_NEW);
  CHECK_FALSE(nf::parse_conntrack(nlh));
  nlh->nlmsg_type = NLMSG_DONE;
  CHECK_FALSE(nf::parse_conntrack(nlh));
}

TEST_CASE("conntrack: malformed tuples give nullopt", "[netfilter]") {
  auto buf = buffer();
  SECTION("no reply tuple") {
    nlmsghdr* nlh = start(buf, IPCTNL_MSG_CT_NEW, NLM_F_CREATE, AF_INET);
    put_tuple(nlh, CTA_TUPLE_ORIG, udp_orig);
    CHECK_FALSE(nf::parse_conntrack(nlh));
  }
  SECTION("IPv6 addresses in an IPv4 message") {
    nlmsghdr* nlh = start(buf, IPCTNL_MSG_CT_NEW, NLM_F_CREATE, AF_INET);
    const tuple_spec t{AF_INET6, v6(1), v6(2), IPPROTO_UDP, 1, 2};
    put_tuple(nlh, CTA_TUPLE_ORIG, t);
    put_tuple(nlh, CTA_TUPLE_REPLY, t);
    CHECK_FALSE(nf::parse_conntrack(nlh));
  }
  SECTION("an address of the wrong length") {
    nlmsghdr* nlh = start(buf, IPCTNL_MSG_CT_NEW, NLM_F_CREATE, AF_INET);
    const tuple_spec t{AF_INET, {10, 0, 0}, v4(10, 0, 0, 1), IPPROTO_UDP, 1, 2};
    put_tuple(nlh, CTA_TUPLE_ORIG, t);
    put_tuple(nlh, CTA_TUPLE_REPLY, udp_reply);
    CHECK_FALSE(nf::parse_conntrack(nlh));
  }
  SECTION("a port of the wrong size") {
    nlmsghdr* nlh = start(buf, IPCTNL_MSG_CT_NEW, NLM_F_CREATE, AF_INET);
    put_tuple(nlh, CTA_TUPLE_ORIG, udp_orig);
    nlattr* tuple = mnl_attr_nest_start(nlh, CTA_TUPLE_REPLY);
    nlattr* ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
    mnl_attr_put(nlh, CTA_IP_V4_SRC, 4, udp_reply.src.data());
    mnl_attr_put(nlh, CTA_IP_V4_DST, 4, udp_reply.dst.data());
    mnl_attr_nest_end(nlh, ip);
    nlattr* proto = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
    mnl_attr_put_u8(nlh, CTA_PROTO_NUM, IPPROTO_UDP);
    mnl_attr_put_u32(nlh, CTA_PROTO_SRC_PORT, 53);
    mnl_attr_nest_end(nlh, proto);
    mnl_attr_nest_end(nlh, tuple);
    CHECK_FALSE(nf::parse_conntrack(nlh));
  }
  SECTION("no protocol number") {
    nlmsghdr* nlh = start(buf, IPCTNL_MSG_CT_NEW, NLM_F_CREATE, AF_INET);
    nlattr* tuple = mnl_attr_nest_start(nlh, CTA_TUPLE_ORIG);
    nlattr* ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
    mnl_attr_put(nlh, CTA_IP_V4_SRC, 4, udp_orig.src.data());
    mnl_attr_put(nlh, CTA_IP_V4_DST, 4, udp_orig.dst.data());
    mnl_attr_nest_end(nlh, ip);
    mnl_attr_nest_end(nlh, tuple);
    put_tuple(nlh, CTA_TUPLE_REPLY, udp_reply);
    CHECK_FALSE(nf::parse_conntrack(nlh));
  }
}

TEST_CASE("conntrack: malformed attributes and truncations give nullopt", "[netfilter]") {
  auto buf = buffer();
  SECTION("a counter of the wrong size") {
    nlmsghdr* nlh = udp_destroy(buf);
    nlattr* c = mnl_attr_nest_start(nlh, CTA_COUNTERS_REPLY);
    mnl_attr_put_u32(nlh, CTA_COUNTERS_BYTES, 1);
    mnl_attr_nest_end(nlh, c);
    CHECK_FALSE(nf::parse_conntrack(nlh));
  }
  SECTION("a status of the wrong size") {
    nlmsghdr* nlh = udp_destroy(buf);
    mnl_attr_put_u16(nlh, CTA_STATUS, 1);
    CHECK_FALSE(nf::parse_conntrack(nlh));
  }
  SECTION("a nested length running past its parent") {
    nlmsghdr* nlh = udp_destroy(buf);
    auto* first = reinterpret_cast<nlattr*>(static_cast<char*>(mnl_nlmsg_get_payload(nlh)) + sizeof(nfgenmsg));
    REQUIRE(mnl_attr_get_type(first) == CTA_TUPLE_ORIG);
    auto* inner = static_cast<nlattr*>(mnl_attr_get_payload(first));  // CTA_TUPLE_IP
    inner->nla_len = static_cast<std::uint16_t>(first->nla_len);     // bigger than the room in CTA_TUPLE_ORIG
    CHECK_FALSE(nf::parse_conntrack(nlh));
  }
  SECTION("every truncation is refused or still well-formed") {
    nlmsghdr* nlh = udp_destroy(buf);
    const std::uint32_t full = nlh->nlmsg_len;
    for (std::uint32_t len = 0; len < full; ++len) {
      nlh->nlmsg_len = len;
      const auto e = nf::parse_conntrack(nlh);
      // Only cuts between top-level attributes after both tuples can parse.
      if (e) CHECK(e->original.sport == 40000);
    }
    nlh->nlmsg_len = full;
    CHECK(nf::parse_conntrack(nlh));
    // Cut inside the reply tuple: refused.
    nlh->nlmsg_len = sizeof(nlmsghdr) + sizeof(nfgenmsg) + 70;
    CHECK_FALSE(nf::parse_conntrack(nlh));
  }
}

TEST_CASE("conntrack: the flush request", "[netfilter]") {
  auto buf = buffer();
  const nlmsghdr* nlh = nf::build_conntrack_flush(buf.data(), 9);
  CHECK(nlh->nlmsg_type == ct_msg(IPCTNL_MSG_CT_DELETE));
  CHECK(nlh->nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK));
  CHECK(nlh->nlmsg_seq == 9);
  CHECK(nlh->nlmsg_len == sizeof(nlmsghdr) + sizeof(nfgenmsg));  // no attributes: everything
  const auto* nfg = static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(nlh));
  CHECK(nfg->nfgen_family == AF_UNSPEC);
  CHECK(nfg->version == NFNETLINK_V0);
}
