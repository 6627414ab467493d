// NFLOG message building and parsing (see nflog_codec.hpp).
#include "net/netfilter/nflog_codec.hpp"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <sys/socket.h>

#include <array>
#include <cstring>

namespace netpen::netfilter {
namespace {

constexpr std::uint16_t log_type(std::uint8_t msg) { return static_cast<std::uint16_t>((NFNL_SUBSYS_ULOG << 8) | msg); }

nlmsghdr* config_request(char* buf, std::uint32_t seq, std::uint16_t group) {
  return detail::put_request(buf, log_type(NFULNL_MSG_CONFIG), NLM_F_ACK, seq, AF_UNSPEC, group);
}

// A big-endian 64-bit value at `bytes` (8 bytes).
std::uint64_t be64_at(std::span<const std::byte> bytes) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | std::to_integer<std::uint64_t>(bytes[i]);
  return v;
}

bool read_interface(const nlattr* a, std::uint32_t& out) {
  if (a == nullptr) return true;
  const auto v = detail::get_be32(a);
  if (!v) return false;
  out = *v;
  return true;
}

}  // namespace

nlmsghdr* build_log_bind(char* buf, std::uint32_t seq, std::uint16_t group) {
  nlmsghdr* nlh = config_request(buf, seq, group);
  nfulnl_msg_config_cmd cmd{};
  cmd.command = NFULNL_CFG_CMD_BIND;
  mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof cmd, &cmd);
  return nlh;
}

nlmsghdr* build_log_params(char* buf, std::uint32_t seq, std::uint16_t group, std::uint32_t copy_range) {
  nlmsghdr* nlh = config_request(buf, seq, group);
  nfulnl_msg_config_mode mode{};
  mode.copy_range = htonl(copy_range);
  mode.copy_mode = NFULNL_COPY_PACKET;
  mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof mode, &mode);
  mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH, htonl(1));
  return nlh;
}

std::optional<logged_packet> parse_logged_packet(const nlmsghdr* nlh) {
  if (nlh->nlmsg_type != log_type(NFULNL_MSG_PACKET)) return std::nullopt;
  const nfgenmsg* nfg = detail::nfgen_header(nlh);
  if (nfg == nullptr) return std::nullopt;
  std::array<const nlattr*, NFULA_MAX + 1> attrs{};
  if (!detail::index_message(nlh, attrs)) return std::nullopt;

  const auto hdr_bytes = detail::payload(attrs[NFULA_PACKET_HDR]);
  if (hdr_bytes.size() != sizeof(nfulnl_msg_packet_hdr)) return std::nullopt;
  nfulnl_msg_packet_hdr hdr{};
  std::memcpy(&hdr, hdr_bytes.data(), sizeof hdr);

  logged_packet p;
  p.group = ntohs(nfg->res_id);
  p.family = nfg->nfgen_family;
  p.hw_protocol = ntohs(hdr.hw_protocol);
  p.hook = hdr.hook;
  if (!read_interface(attrs[NFULA_IFINDEX_INDEV], p.indev) || !read_interface(attrs[NFULA_IFINDEX_OUTDEV], p.outdev))
    return std::nullopt;
  if (attrs[NFULA_TIMESTAMP] != nullptr) {
    const auto ts = detail::payload(attrs[NFULA_TIMESTAMP]);
    if (ts.size() != sizeof(nfulnl_msg_packet_timestamp)) return std::nullopt;
    p.timestamp_ns = be64_at(ts.first(8)) * 1'000'000'000ULL + be64_at(ts.subspan(8, 8)) * 1'000ULL;
  }
  p.payload = detail::payload(attrs[NFULA_PAYLOAD]);
  return p;
}

}  // namespace netpen::netfilter
