// pcapng block builders; see pcapng.hpp and draft-ietf-opsawg-pcapng.
#include "capture/pcapng.hpp"

#include <algorithm>
#include <limits>

namespace netpen::capture {

namespace {

constexpr std::uint16_t opt_endofopt = 0;
constexpr std::uint16_t opt_comment = 1;
constexpr std::uint16_t shb_hardware = 2;
constexpr std::uint16_t shb_os = 3;
constexpr std::uint16_t shb_userappl = 4;
constexpr std::uint16_t if_name = 2;
constexpr std::uint16_t if_description = 3;
constexpr std::uint16_t if_tsresol = 9;
constexpr std::uint16_t nrb_record_end = 0;
constexpr std::uint16_t nrb_record_ipv4 = 1;
constexpr std::uint16_t nrb_record_ipv6 = 2;

constexpr std::size_t max_option_length = std::numeric_limits<std::uint16_t>::max();
// Block type + total length before the body, total length after it.
constexpr std::size_t block_overhead = 12;

constexpr std::size_t pad4(std::size_t n) { return (n + 3) & ~std::size_t{3}; }

void put8(bytes& o, std::uint8_t v) { o.push_back(std::byte{v}); }
void put16(bytes& o, std::uint16_t v) {
  put8(o, static_cast<std::uint8_t>(v & 0xffu));
  put8(o, static_cast<std::uint8_t>(v >> 8));
}
void put32(bytes& o, std::uint32_t v) {
  put16(o, static_cast<std::uint16_t>(v & 0xffffu));
  put16(o, static_cast<std::uint16_t>(v >> 16));
}
void put_bytes(bytes& o, std::span<const std::byte> b) { o.insert(o.end(), b.begin(), b.end()); }
void put_text(bytes& o, std::string_view s) { put_bytes(o, std::as_bytes(std::span(s.data(), s.size()))); }
// Zero bytes up to the next 32-bit boundary, counted from the block start.
void pad_from(bytes& o, std::size_t block_start) {
  while ((o.size() - block_start) % 4 != 0) put8(o, 0);
}
void patch32(bytes& o, std::size_t at, std::uint32_t v) {
  for (std::size_t i = 0; i < 4; ++i) o[at + i] = std::byte{static_cast<std::uint8_t>((v >> (8 * i)) & 0xffu)};
}

std::size_t begin_block(bytes& o, std::uint32_t type) {
  const auto start = o.size();
  put32(o, type);
  put32(o, 0);  // total length, patched by end_block
  return start;
}
void end_block(bytes& o, std::size_t start) {
  pad_from(o, start);
  const auto total = static_cast<std::uint32_t>(o.size() - start + 4);
  put32(o, total);
  patch32(o, start + 4, total);
}

// The longest prefix of `s` of at most `max` bytes that does not end inside
// a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0u) == 0x80u) --n;
  return s.substr(0, n);
}

// Options of one block; opt_endofopt is written only if some option was.
class option_writer {
 public:
  option_writer(bytes& out, std::size_t block_start) : out_(out), start_(block_start) {}
  void raw(std::uint16_t code, std::span<const std::byte> value) {
    put16(out_, code);
    put16(out_, static_cast<std::uint16_t>(value.size()));
    put_bytes(out_, value);
    pad_from(out_, start_);
    any_ = true;
  }
  void text(std::uint16_t code, std::string_view value) {
    if (value.empty()) return;
    const auto v = utf8_prefix(value, max_option_length);
    raw(code, std::as_bytes(std::span(v.data(), v.size())));
  }
  void finish() {
    if (!any_) return;
    put16(out_, opt_endofopt);
    put16(out_, 0);
  }

 private:
  bytes& out_;
  std::size_t start_;
  bool any_ = false;
};

}  // namespace

bytes section_header(const section_info& info) {
  bytes out;
  const auto start = begin_block(out, block_section_header);
  put32(out, byte_order_magic);
  put16(out, 1);  // major version
  put16(out, 0);  // minor version
  put32(out, 0xFFFFFFFFu);  // section length -1 (64 bits): not specified
  put32(out, 0xFFFFFFFFu);
  option_writer opts(out, start);
  opts.text(opt_comment, info.comment);
  opts.text(shb_hardware, info.hardware);
  opts.text(shb_os, info.os);
  opts.text(shb_userappl, info.application);
  opts.finish();
  end_block(out, start);
  return out;
}

bytes interface_description(const interface_info& info) {
  bytes out;
  const auto start = begin_block(out, block_interface_description);
  put16(out, info.link_type);
  put16(out, 0);  // reserved
  put32(out, info.snaplen);
  option_writer opts(out, start);
  opts.text(if_name, info.name);
  opts.text(if_description, info.description);
  const std::byte nanoseconds{9};  // 10^-9 s
  opts.raw(if_tsresol, std::span(&nanoseconds, 1));
  opts.finish();
  end_block(out, start);
  return out;
}

void append_enhanced_packet(bytes& out, std::uint32_t interface_id, std::uint64_t timestamp_ns,
                            std::span<const std::span<const std::byte>> pieces, std::uint32_t original_length,
                            std::string_view comment) {
  std::size_t total = 0;
  for (const auto& p : pieces) total += p.size();
  const auto captured = static_cast<std::uint32_t>(std::min(total, max_captured_length));
  const auto start = begin_block(out, block_enhanced_packet);
  put32(out, interface_id);
  put32(out, static_cast<std::uint32_t>(timestamp_ns >> 32));
  put32(out, static_cast<std::uint32_t>(timestamp_ns & 0xFFFFFFFFu));
  put32(out, captured);
  put32(out, std::max(original_length, captured));
  std::size_t room = captured;
  for (auto p : pieces) {
    if (room == 0) break;
    if (p.size() > room) p = p.first(room);
    put_bytes(out, p);
    room -= p.size();
  }
  pad_from(out, start);
  option_writer opts(out, start);
  opts.text(opt_comment, comment);
  opts.finish();
  end_block(out, start);
}

void append_enhanced_packet(bytes& out, std::uint32_t interface_id, std::uint64_t timestamp_ns,
                            std::span<const std::byte> data, std::uint32_t original_length,
                            std::string_view comment) {
  const std::span<const std::byte> pieces[] = {data};
  append_enhanced_packet(out, interface_id, timestamp_ns, pieces, original_length, comment);
}

std::size_t enhanced_packet_size(std::size_t data_length, std::size_t comment_length) {
  const auto options = comment_length == 0 ? 0 : 4 + pad4(std::min(comment_length, max_option_length)) + 4;
  return block_overhead + 20 + pad4(std::min(data_length, max_captured_length)) + options;
}

bytes enhanced_packet(std::uint32_t interface_id, std::uint64_t timestamp_ns, std::span<const std::byte> data,
                      std::uint32_t original_length, std::string_view comment) {
  bytes out;
  out.reserve(enhanced_packet_size(data.size(), comment.size()));
  append_enhanced_packet(out, interface_id, timestamp_ns, data, original_length, comment);
  return out;
}

bytes name_resolution(const std::vector<name_record>& records, std::size_t max_block) {
  // Room for records in one block: the block header and trailer and the
  // nrb_record_end record (4 bytes) are fixed.
  constexpr std::size_t fixed = block_overhead + 4;
  const std::size_t capacity = max_block > fixed ? max_block - fixed : 0;

  bytes out;
  std::size_t block_start = 0;
  bool open = false;
  std::size_t used = 0;  // record bytes in the open block
  auto close_block = [&] {
    put16(out, nrb_record_end);
    put16(out, 0);
    end_block(out, block_start);
    open = false;
    used = 0;
  };

  for (const auto& rec : records) {
    const std::size_t addr_len = rec.v6 ? 16 : 4;
    auto usable = [&](const std::string& n) {
      return !n.empty() && n.find('\0') == std::string::npos && addr_len + n.size() + 1 <= max_option_length &&
             pad4(4 + addr_len + n.size() + 1) <= capacity;
    };
    std::vector<std::string_view> names;
    for (const auto& n : rec.names)
      if (usable(n)) names.emplace_back(n);

    std::size_t i = 0;
    while (i < names.size()) {
      const std::size_t room = capacity - used;
      std::size_t value_len = addr_len;
      std::size_t j = i;
      while (j < names.size()) {
        const auto next = value_len + names[j].size() + 1;
        if (next > max_option_length || pad4(4 + next) > room) break;
        value_len = next;
        ++j;
      }
      if (j == i) {  // not even one more name fits here: continue in a new block
        if (open)
          close_block();
        else
          ++i;  // unreachable: a usable name fits an empty block
        continue;
      }
      if (!open) {
        block_start = begin_block(out, block_name_resolution);
        open = true;
      }
      put16(out, rec.v6 ? nrb_record_ipv6 : nrb_record_ipv4);
      put16(out, static_cast<std::uint16_t>(value_len));
      put_bytes(out, std::as_bytes(std::span(rec.address.data(), addr_len)));
      for (; i < j; ++i) {
        put_text(out, names[i]);
        put8(out, 0);
      }
      pad_from(out, block_start);
      used += pad4(4 + value_len);
    }
  }
  if (open) close_block();
  return out;
}

}  // namespace netpen::capture
