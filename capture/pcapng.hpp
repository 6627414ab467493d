// pcapng block builders (IETF draft-ietf-opsawg-pcapng): Section Header,
// Interface Description, Enhanced Packet and Name Resolution blocks. Pure:
// no I/O, little-endian output, every block and option value padded to 32
// bits, every non-empty option list terminated by opt_endofopt.
//
// Limits applied so that any input still gives a block readers accept:
// option strings longer than 65535 bytes are cut at a UTF-8 character
// boundary; packet data longer than max_captured_length is truncated (the
// original length still records the real size, and is never below the
// captured length); NRB names that are empty, contain a NUL or cannot fit a
// block are skipped.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace netpen::capture {

using bytes = std::vector<std::byte>;

// Block types.
inline constexpr std::uint32_t block_section_header = 0x0A0D0D0A;
inline constexpr std::uint32_t block_interface_description = 0x00000001;
inline constexpr std::uint32_t block_name_resolution = 0x00000004;
inline constexpr std::uint32_t block_enhanced_packet = 0x00000006;
inline constexpr std::uint32_t byte_order_magic = 0x1A2B3C4D;

// Link types (LINKTYPE_*). netpen writes Ethernet frames; RAW is only named.
inline constexpr std::uint16_t linktype_ethernet = 1;
inline constexpr std::uint16_t linktype_raw = 101;

// Largest packet data an EPB carries (Wireshark's largest standard snaplen).
inline constexpr std::size_t max_captured_length = 262144;
// An NRB is split into several blocks so that none exceeds this size.
inline constexpr std::size_t max_name_resolution_block = 65536;

struct section_info {
  std::string hardware;     // shb_hardware (2)
  std::string os;           // shb_os (3)
  std::string application;  // shb_userappl (4), e.g. "netpen 0.1.0"
  std::string comment;      // opt_comment (1)
};

struct interface_info {
  std::uint16_t link_type = linktype_ethernet;
  std::uint32_t snaplen = 0;  // 0: no limit
  std::string name;           // if_name (2)
  std::string description;    // if_description (3)
};

struct name_record {
  std::array<std::uint8_t, 16> address{};  // IPv4 in the first 4 bytes when !v6
  bool v6 = false;
  std::vector<std::string> names;
};

// SHB: byte-order magic, version 1.0, section length -1 (unknown), options
// for each non-empty field of `info`.
bytes section_header(const section_info& info);

// IDB: link type, snaplen, if_name and if_description when non-empty, and
// always if_tsresol = 9 (timestamps in nanoseconds).
bytes interface_description(const interface_info& info);

// EPB: captured length = data.size() (at most max_captured_length),
// timestamp in nanoseconds since the epoch, opt_comment when non-empty.
bytes enhanced_packet(std::uint32_t interface_id, std::uint64_t timestamp_ns, std::span<const std::byte> data,
                      std::uint32_t original_length, std::string_view comment = {});
// The same block appended to `out` (one copy of `data`, no temporary).
void append_enhanced_packet(bytes& out, std::uint32_t interface_id, std::uint64_t timestamp_ns,
                            std::span<const std::byte> data, std::uint32_t original_length,
                            std::string_view comment = {});
// The same, the packet data given as pieces in order (a frame's headers and
// payload spans); one copy of each piece, no temporary.
void append_enhanced_packet(bytes& out, std::uint32_t interface_id, std::uint64_t timestamp_ns,
                            std::span<const std::span<const std::byte>> pieces, std::uint32_t original_length,
                            std::string_view comment = {});

// The size of that block, or a few bytes more when the comment is cut.
std::size_t enhanced_packet_size(std::size_t data_length, std::size_t comment_length);

// One or more NRBs (nrb_record_ipv4 / nrb_record_ipv6 records, then
// nrb_record_end), none larger than `max_block` bytes; a record whose names
// do not fit one block is continued in further records for the same address.
// Records without a usable name are skipped; no usable record gives no bytes.
bytes name_resolution(const std::vector<name_record>& records,
                      std::size_t max_block = max_name_resolution_block);

}  // namespace netpen::capture
