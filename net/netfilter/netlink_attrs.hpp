// Bounds-checked reading of nfnetlink messages for the netfilter codecs:
// the nfgenmsg header, a type-indexed table of one level of attributes, and
// fixed-size big-endian reads that refuse the wrong length. Pure: no I/O.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

struct nlmsghdr;
struct nlattr;
struct nfgenmsg;

namespace netpen::netfilter {

// Room enough for any request the netfilter builders write (they stay far
// below; MNL_SOCKET_BUFFER_SIZE is at most this too).
inline constexpr std::size_t request_buffer_size = 8192;

// Whether a whole message starts at `nlh` within the `left` bytes of a
// receive buffer: mnl_nlmsg_ok, except that an nlmsg_len of 2^31 or more is
// refused (libmnl compares it as a negative int and accepts it; the walk's
// mnl_nlmsg_next then jumps out of the buffer). Found by fuzzing.
bool message_fits(const nlmsghdr* nlh, int left);

// For an NLMSG_ERROR message: 0 for an ACK, else the positive errno the
// kernel answered (a refused verdict, a failed request). nullopt otherwise,
// and for an error field the kernel never sends (positive, or INT_MIN).
std::optional<int> ack_error(const nlmsghdr* nlh);

namespace detail {

// Starts a request in `buf`: the netlink header (type, NLM_F_REQUEST |
// flags, seq) and the nfgenmsg (family, version 0, res_id in network order).
nlmsghdr* put_request(char* buf, std::uint16_t type, std::uint16_t flags, std::uint32_t seq, std::uint8_t family,
                      std::uint16_t res_id);

// The nfgenmsg after the netlink header, or nullptr if the message is too
// short to hold one.
const nfgenmsg* nfgen_header(const nlmsghdr* nlh);

// Fills table[type] (type < table.size()) with each attribute; unknown types
// are skipped, a repeated type keeps the last. False if an attribute is
// shorter than its header or runs past the end (the table is then partial).
bool index_attributes(const void* data, std::size_t len, std::span<const nlattr*> table);
// The attributes after the nfgenmsg header of a netfilter message.
bool index_message(const nlmsghdr* nlh, std::span<const nlattr*> table);
// The attributes nested in `outer`.
bool index_nested(const nlattr* outer, std::span<const nlattr*> table);

std::span<const std::byte> payload(const nlattr* a);
// Exact-length reads; multi-byte values are big-endian on the wire and
// come back in host order. nullopt for a missing (nullptr) or misfit attribute.
std::optional<std::uint8_t> get_u8(const nlattr* a);
std::optional<std::uint16_t> get_be16(const nlattr* a);
std::optional<std::uint32_t> get_be32(const nlattr* a);
std::optional<std::uint64_t> get_be64(const nlattr* a);

}  // namespace detail
}  // namespace netpen::netfilter
