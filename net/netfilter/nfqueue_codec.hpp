// NFQUEUE messages (nfnetlink_queue): the bind and parameter requests, the
// queued-packet message the kernel sends, and the verdict that answers it.
// Builders write into a caller buffer of at least request_buffer_size
// bytes; the parser never reads past nlmsg_len. Pure: no I/O.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "net/netfilter/netlink_attrs.hpp"

struct nlmsghdr;

namespace netpen::netfilter {

inline constexpr std::uint32_t default_queue_maxlen = 4096;

// NFQNL_CFG_CMD_BIND for `queue` (family AF_UNSPEC), with NLM_F_ACK.
nlmsghdr* build_queue_bind(char* buf, std::uint32_t seq, std::uint16_t queue);
// NFQNL_COPY_PACKET up to copy_range bytes of each packet, and the queue's
// length limit; with NLM_F_ACK. No fail-open flag: when the queue is full
// or nobody listens, the kernel drops.
nlmsghdr* build_queue_params(char* buf, std::uint32_t seq, std::uint16_t queue, std::uint32_t copy_range,
                             std::uint32_t queue_maxlen = default_queue_maxlen);

struct queued_packet {
  std::uint16_t queue = 0;        // the queue it came from
  std::uint32_t id = 0;           // answer with this id
  std::uint16_t hw_protocol = 0;  // ETH_P_IP / ETH_P_IPV6, host order
  std::uint8_t hook = 0;          // NF_INET_*
  std::uint32_t mark = 0;         // skb mark (0 when absent)
  std::span<const std::byte> payload;  // the L3 packet, maybe cut at copy_range; points into the message
};

// The packet of an NFQNL_MSG_PACKET message; nullopt for any other message
// or for a malformed one (no packet header, truncated attributes).
std::optional<queued_packet> parse_queued_packet(const nlmsghdr* nlh);

enum class verdict {
  accept,  // NF_ACCEPT: continue after the queue rule
  drop,    // NF_DROP
  repeat,  // NF_REPEAT: run the hook again from its start (with `mark` set, a deny rule can match)
};

// NFQNL_MSG_VERDICT for packet `id` of `queue`, optionally setting its mark.
// Without NLM_F_ACK: the kernel answers only on error (see ack_error).
nlmsghdr* build_verdict(char* buf, std::uint16_t queue, std::uint32_t id, verdict v,
                        std::optional<std::uint32_t> mark = std::nullopt);

}  // namespace netpen::netfilter
