// ctnetlink conntrack messages: parsing the NEW/DELETE events (tuples,
// status, TCP state, byte counters, mark, id) and building the flush
// request. Builders write into a caller buffer of at least
// request_buffer_size bytes; the parser never reads past nlmsg_len.
// Pure: no I/O.
#pragma once
#include <array>
#include <cstdint>
#include <optional>

#include "net/netfilter/netlink_attrs.hpp"

struct nlmsghdr;

namespace netpen::netfilter {

enum class ct_event {
  created,    // IPCTNL_MSG_CT_NEW with NLM_F_CREATE (the flow's first packet passed)
  updated,    // IPCTNL_MSG_CT_NEW without it (state, status or mark changed)
  destroyed,  // IPCTNL_MSG_CT_DELETE (with the final counters when accounting is on)
};

struct ct_tuple {
  int family = 0;      // AF_INET / AF_INET6
  std::uint8_t proto = 0;  // IPPROTO_*
  std::array<std::uint8_t, 16> src{}, dst{};  // network order; IPv4 in the first 4 bytes
  std::uint16_t sport = 0, dport = 0;          // host order (TCP, UDP, SCTP, ...)
  std::uint16_t icmp_id = 0;                   // ICMP / ICMPv6, host order
  std::uint8_t icmp_type = 0, icmp_code = 0;
};

struct conntrack_entry {
  ct_event event = ct_event::created;
  ct_tuple original, reply;
  std::uint32_t status = 0;  // IPS_* bits
  std::optional<std::uint8_t> tcp_state;  // TCP_CONNTRACK_*
  std::uint64_t orig_packets = 0, orig_bytes = 0, reply_packets = 0, reply_bytes = 0;
  std::uint32_t mark = 0;
  std::uint32_t id = 0;
};

// A conntrack event or dump entry; nullopt for other messages, for a
// malformed one, or one without both tuples.
std::optional<conntrack_entry> parse_conntrack(const nlmsghdr* nlh);

// IPCTNL_MSG_CT_DELETE without a tuple: flushes every conntrack entry of the
// calling socket's network namespace (all families), with NLM_F_ACK.
nlmsghdr* build_conntrack_flush(char* buf, std::uint32_t seq);
// IPCTNL_MSG_CT_GET dump of the whole table (every family): answered with
// one IPCTNL_MSG_CT_NEW per entry (parsed as `updated`, with counters when
// accounting is on), then NLMSG_DONE.
nlmsghdr* build_conntrack_dump(char* buf, std::uint32_t seq);

}  // namespace netpen::netfilter
