// NFLOG messages (nfnetlink_log): the group bind and configuration
// requests, and the logged-packet message the kernel sends for each packet
// an nft `log group N` rule matched. Builders write into a caller buffer of
// at least request_buffer_size bytes; the parser never reads past
// nlmsg_len. Pure: no I/O.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "net/netfilter/netlink_attrs.hpp"

struct nlmsghdr;

namespace netpen::netfilter {

// NFULNL_CFG_CMD_BIND for `group` (family AF_UNSPEC), with NLM_F_ACK. The
// kernel refuses a group another socket has bound with EPERM.
nlmsghdr* build_log_bind(char* buf, std::uint32_t seq, std::uint16_t group);
// NFULNL_COPY_PACKET up to copy_range bytes of each packet (0: as much as
// the kernel allows), each packet sent at once (queue threshold 1); with
// NLM_F_ACK. (No NFULNL_CFG_F_CONNTRACK: kernels without
// NETFILTER_NETLINK_GLUE_CT refuse it.)
nlmsghdr* build_log_params(char* buf, std::uint32_t seq, std::uint16_t group, std::uint32_t copy_range);

struct logged_packet {
  std::uint16_t group = 0;
  int family = 0;                 // AF_INET / AF_INET6 (the nfgenmsg family)
  std::uint16_t hw_protocol = 0;  // ETH_P_IP / ETH_P_IPV6, host order
  std::uint8_t hook = 0;          // NF_INET_*
  std::uint32_t indev = 0, outdev = 0;         // interface indexes (0 when absent)
  std::optional<std::uint64_t> timestamp_ns;   // the packet's kernel time, ns since the epoch, when it had one
  std::span<const std::byte> payload;          // the L3 packet, maybe cut at the copy range; points into the message
};

// The packet of an NFULNL_MSG_PACKET message; nullopt for any other message
// or a malformed one (no packet header, truncated attributes, a timestamp
// of the wrong size).
std::optional<logged_packet> parse_logged_packet(const nlmsghdr* nlh);

}  // namespace netpen::netfilter
