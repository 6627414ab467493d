// ctnetlink message parsing and building (see conntrack_codec.hpp).
#include "net/netfilter/conntrack_codec.hpp"

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <arpa/inet.h>

#include <cstring>
#include <span>

#include "net/netfilter/netlink_attrs.hpp"

namespace netpen::netfilter {
namespace {

constexpr std::uint16_t ct_type(std::uint8_t msg) {
  return static_cast<std::uint16_t>((NFNL_SUBSYS_CTNETLINK << 8) | msg);
}

template <std::size_t N>
using table = std::array<const nlattr*, N>;

bool copy_address(const nlattr* a, std::size_t len, std::array<std::uint8_t, 16>& out) {
  const auto bytes = detail::payload(a);
  if (a == nullptr || bytes.size() != len) return false;
  std::memcpy(out.data(), bytes.data(), len);
  return true;
}

bool parse_ip(const nlattr* nest, int family, ct_tuple& t) {
  table<CTA_IP_MAX + 1> ip{};
  if (!detail::index_nested(nest, ip)) return false;
  if (family == AF_INET) return copy_address(ip[CTA_IP_V4_SRC], 4, t.src) && copy_address(ip[CTA_IP_V4_DST], 4, t.dst);
  if (family == AF_INET6)
    return copy_address(ip[CTA_IP_V6_SRC], 16, t.src) && copy_address(ip[CTA_IP_V6_DST], 16, t.dst);
  return false;
}

// An optional attribute: absent is fine, present with the wrong size is not.
template <class T, class Read>
bool read_optional(const nlattr* a, Read read, T& out) {
  if (a == nullptr) return true;
  const auto v = read(a);
  if (!v) return false;
  out = *v;
  return true;
}

bool parse_proto(const nlattr* nest, ct_tuple& t) {
  table<CTA_PROTO_MAX + 1> p{};
  if (!detail::index_nested(nest, p)) return false;
  const auto num = detail::get_u8(p[CTA_PROTO_NUM]);
  if (!num) return false;
  t.proto = *num;
  const bool v6 = t.proto == IPPROTO_ICMPV6;
  return read_optional(p[CTA_PROTO_SRC_PORT], detail::get_be16, t.sport) &&
         read_optional(p[CTA_PROTO_DST_PORT], detail::get_be16, t.dport) &&
         read_optional(p[v6 ? CTA_PROTO_ICMPV6_ID : CTA_PROTO_ICMP_ID], detail::get_be16, t.icmp_id) &&
         read_optional(p[v6 ? CTA_PROTO_ICMPV6_TYPE : CTA_PROTO_ICMP_TYPE], detail::get_u8, t.icmp_type) &&
         read_optional(p[v6 ? CTA_PROTO_ICMPV6_CODE : CTA_PROTO_ICMP_CODE], detail::get_u8, t.icmp_code);
}

bool parse_tuple(const nlattr* nest, int family, ct_tuple& t) {
  table<CTA_TUPLE_MAX + 1> tuple{};
  if (!detail::index_nested(nest, tuple)) return false;
  t.family = family;
  return parse_ip(tuple[CTA_TUPLE_IP], family, t) && parse_proto(tuple[CTA_TUPLE_PROTO], t);
}

bool parse_counters(const nlattr* nest, std::uint64_t& packets, std::uint64_t& bytes) {
  if (nest == nullptr) return true;
  table<CTA_COUNTERS_MAX + 1> c{};
  if (!detail::index_nested(nest, c)) return false;
  std::uint32_t p32 = 0, b32 = 0;
  if (!read_optional(c[CTA_COUNTERS32_PACKETS], detail::get_be32, p32) ||
      !read_optional(c[CTA_COUNTERS32_BYTES], detail::get_be32, b32))
    return false;
  packets = p32;
  bytes = b32;
  return read_optional(c[CTA_COUNTERS_PACKETS], detail::get_be64, packets) &&
         read_optional(c[CTA_COUNTERS_BYTES], detail::get_be64, bytes);
}

bool parse_tcp_state(const nlattr* nest, std::optional<std::uint8_t>& state) {
  if (nest == nullptr) return true;
  table<CTA_PROTOINFO_MAX + 1> info{};
  if (!detail::index_nested(nest, info)) return false;
  if (info[CTA_PROTOINFO_TCP] == nullptr) return true;
  table<CTA_PROTOINFO_TCP_MAX + 1> tcp{};
  if (!detail::index_nested(info[CTA_PROTOINFO_TCP], tcp)) return false;
  if (tcp[CTA_PROTOINFO_TCP_STATE] == nullptr) return true;
  state = detail::get_u8(tcp[CTA_PROTOINFO_TCP_STATE]);
  return state.has_value();
}

}  // namespace

std::optional<conntrack_entry> parse_conntrack(const nlmsghdr* nlh) {
  conntrack_entry e;
  if (nlh->nlmsg_type == ct_type(IPCTNL_MSG_CT_NEW))
    e.event = (nlh->nlmsg_flags & NLM_F_CREATE) != 0 ? ct_event::created : ct_event::updated;
  else if (nlh->nlmsg_type == ct_type(IPCTNL_MSG_CT_DELETE))
    e.event = ct_event::destroyed;
  else
    return std::nullopt;
  const nfgenmsg* nfg = detail::nfgen_header(nlh);
  if (nfg == nullptr) return std::nullopt;
  const int family = nfg->nfgen_family;

  table<CTA_MAX + 1> a{};
  if (!detail::index_message(nlh, a)) return std::nullopt;
  if (!parse_tuple(a[CTA_TUPLE_ORIG], family, e.original) || !parse_tuple(a[CTA_TUPLE_REPLY], family, e.reply))
    return std::nullopt;
  const bool ok = read_optional(a[CTA_STATUS], detail::get_be32, e.status) &&
                  read_optional(a[CTA_MARK], detail::get_be32, e.mark) &&
                  read_optional(a[CTA_ID], detail::get_be32, e.id) && parse_tcp_state(a[CTA_PROTOINFO], e.tcp_state) &&
                  parse_counters(a[CTA_COUNTERS_ORIG], e.orig_packets, e.orig_bytes) &&
                  parse_counters(a[CTA_COUNTERS_REPLY], e.reply_packets, e.reply_bytes);
  if (!ok) return std::nullopt;
  return e;
}

namespace {

// A ctnetlink request about the whole table: version 0 with AF_UNSPEC is
// every family.
nlmsghdr* whole_table_request(char* buf, std::uint32_t seq, std::uint8_t msg, std::uint16_t flags) {
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = ct_type(msg);
  nlh->nlmsg_flags = NLM_F_REQUEST | flags;
  nlh->nlmsg_seq = seq;
  auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = AF_UNSPEC;
  nfg->version = NFNETLINK_V0;
  nfg->res_id = 0;
  return nlh;
}

}  // namespace

nlmsghdr* build_conntrack_flush(char* buf, std::uint32_t seq) {
  return whole_table_request(buf, seq, IPCTNL_MSG_CT_DELETE, NLM_F_ACK);
}

nlmsghdr* build_conntrack_dump(char* buf, std::uint32_t seq) {
  return whole_table_request(buf, seq, IPCTNL_MSG_CT_GET, NLM_F_DUMP);
}

}  // namespace netpen::netfilter
