// DNS wire codec (RFC 1035), sans-I/O: header and question parsing (names
// with compression pointers, loop-safe, length-limited), extraction of
// A/AAAA/CNAME answer records, locally built replies (errors, addresses) and
// the 2-byte length framing used over TCP. Never throws on bad input and never
// reads outside the given buffer.
#pragma once
#include <asio/ip/address.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "net/common/error.hpp"

namespace netpen::dns {

using bytes = std::vector<std::byte>;
using byte_view = std::span<const std::byte>;

inline constexpr std::size_t header_size = 12;
inline constexpr std::size_t max_name_wire = 255;   // RFC 1035 2.3.4
inline constexpr std::size_t max_label = 63;
inline constexpr std::size_t max_message = 65535;    // largest TCP-framed message
inline constexpr std::size_t classic_udp_limit = 512;

inline constexpr std::uint16_t type_a = 1;
inline constexpr std::uint16_t type_cname = 5;
inline constexpr std::uint16_t type_aaaa = 28;
inline constexpr std::uint16_t class_in = 1;

enum class rcode : std::uint8_t {
  noerror = 0,
  formerr = 1,
  servfail = 2,
  nxdomain = 3,
  notimp = 4,
  refused = 5,
};

// Flag bits of the header's second 16-bit word.
inline constexpr std::uint16_t flag_qr = 0x8000;
inline constexpr std::uint16_t flag_aa = 0x0400;
inline constexpr std::uint16_t flag_tc = 0x0200;
inline constexpr std::uint16_t flag_rd = 0x0100;
inline constexpr std::uint16_t flag_ra = 0x0080;
inline constexpr std::uint16_t opcode_mask = 0x7800;
inline constexpr std::uint16_t rcode_mask = 0x000f;

struct header {
  std::uint16_t id = 0;
  std::uint16_t flags = 0;
  std::uint16_t qdcount = 0;
  std::uint16_t ancount = 0;
  std::uint16_t nscount = 0;
  std::uint16_t arcount = 0;

  bool is_response() const { return (flags & flag_qr) != 0; }
  bool truncated() const { return (flags & flag_tc) != 0; }
  std::uint8_t opcode() const { return static_cast<std::uint8_t>((flags & opcode_mask) >> 11); }
  rcode response_code() const { return static_cast<rcode>(flags & rcode_mask); }
};

// A domain name read from a message.
struct name {
  std::string text;  // presentation form without trailing dot ("" = root);
                     // '.', '\\' and non-printable bytes in labels escaped
  bytes wire;        // uncompressed wire form including the root label
};

struct question {
  name qname;
  std::uint16_t qtype = 0;
  std::uint16_t qclass = 0;
};

struct parsed_query {
  header hdr;
  question q;          // the first question
  std::size_t end = 0; // offset just past that question
};

struct answer_record {
  std::string name;           // owner name (presentation form, as in `name::text`)
  std::uint16_t type = 0;     // type_a, type_aaaa or type_cname
  std::uint32_t ttl = 0;
  asio::ip::address address;  // for A and AAAA
  std::string target;         // for CNAME
};

result<header> parse_header(byte_view msg);

// Reads the name at `offset`; `next` receives the offset just past it (after
// the first compression pointer if any). Pointers must point strictly
// backwards, so loops are impossible.
result<name> read_name(byte_view msg, std::size_t offset, std::size_t& next);

// Header plus the first question; requires qdcount >= 1.
result<parsed_query> parse_query(byte_view msg);

// A/AAAA/CNAME records (class IN) of the answer section, in order. Best
// effort: stops at the first malformed record and returns what came before.
std::vector<answer_record> extract_answers(byte_view msg);

// A reply to `query` with the given rcode: same id, opcode, RD and first
// question; QR and RA set, no records. A query whose question cannot be
// parsed gets a header-only reply (qdcount 0); fewer than 12 bytes is an error.
result<bytes> make_error_reply(byte_view query, rcode code);

// A NOERROR reply answering the query's question with every address of the
// question's family (A: IPv4, AAAA: IPv6) with `ttl`. No matching address
// means NODATA (NOERROR, no answers). Records that would push the reply over
// `max_size` are left out and TC is set.
result<bytes> make_address_reply(byte_view query, const std::vector<asio::ip::address>& addresses,
                                 std::uint32_t ttl, std::size_t max_size = max_message);

// A recursive query (RD set, class IN) for `host` (presentation form, no
// escapes; a trailing dot allowed) of type qtype: what netpen itself asks
// when it needs a name's addresses. An empty, over-long or badly labelled
// name is an error.
result<bytes> make_address_query(std::uint16_t id, std::string_view host, std::uint16_t qtype);

// Same message with another id (the id occupies the first two bytes).
void set_id(bytes& msg, std::uint16_t id);

// Case-insensitive comparison of two wire-form names (ASCII letters only).
bool same_name(byte_view a, byte_view b);

// TCP framing (RFC 1035 4.2.2): 2-byte big-endian length, then the message.
result<bytes> frame_for_tcp(byte_view msg);

struct tcp_frame {
  byte_view message;       // view into the buffer given to next_tcp_frame
  std::size_t consumed = 0;  // bytes of the buffer this frame occupies
};
// The first complete frame in `buffer`, or nullopt if more bytes are needed.
std::optional<tcp_frame> next_tcp_frame(byte_view buffer);

// Convenience for tests and callers holding text.
inline byte_view as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

}  // namespace netpen::dns
