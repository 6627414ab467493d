// A strict, independent pcapng reader for the capture tests. It accepts only
// what netpen's writer should produce and throws std::runtime_error (naming
// the offset) on anything else: little-endian sections, block total lengths
// that match at both ends and are multiples of 4, zero padding, option lists
// ending with opt_endofopt, options valid for their block, UTF-8 strings,
// EPBs whose captured length fits the block and whose interface exists, NRB
// records with at least one NUL-terminated name and a final nrb_record_end.
#pragma once
#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdlib>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace pcapng_test {

using bytes = std::vector<std::byte>;

// A directory of its own for a test's files, removed afterwards.
struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    std::string templ = (std::filesystem::temp_directory_path() / "netpen-capture-XXXXXX").string();
    REQUIRE(::mkdtemp(templ.data()) != nullptr);
    path = templ;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  std::string file(const std::string& name) const { return (path / name).string(); }
};


struct option {
  std::uint16_t code = 0;
  bytes value;
  std::string text() const { return {reinterpret_cast<const char*>(value.data()), value.size()}; }
};

struct section_header {
  std::uint16_t major = 0, minor = 0;
  std::int64_t section_length = 0;
  std::vector<option> options;
};
struct interface_description {
  std::uint16_t link_type = 0;
  std::uint32_t snaplen = 0;
  std::vector<option> options;
};
struct enhanced_packet {
  std::uint32_t interface_id = 0;
  std::uint64_t timestamp = 0;
  std::uint32_t captured = 0, original = 0;
  bytes data;
  std::vector<option> options;
};
struct name_entry {
  std::uint16_t type = 0;  // 1 IPv4, 2 IPv6
  bytes address;
  std::vector<std::string> names;
};
struct name_resolution {
  std::vector<name_entry> records;
  std::vector<option> options;
};

struct block {
  std::uint32_t type = 0;
  std::uint32_t total_length = 0;
  std::variant<section_header, interface_description, enhanced_packet, name_resolution> body;
};

inline const option* find_option(const std::vector<option>& opts, std::uint16_t code) {
  for (const auto& o : opts)
    if (o.code == code) return &o;
  return nullptr;
}

class reader {
 public:
  static std::vector<block> parse(std::span<const std::byte> data) { return reader(data).run(); }

  static std::vector<block> parse_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open " + path);
    const std::vector<char> raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return parse(std::as_bytes(std::span(raw)));
  }

 private:
  explicit reader(std::span<const std::byte> data) : d_(data) {}

  [[noreturn]] static void bad(std::size_t at, const std::string& what) {
    throw std::runtime_error("pcapng offset " + std::to_string(at) + ": " + what);
  }
  std::uint8_t u8(std::size_t at) const {
    if (at >= d_.size()) bad(at, "read past the end");
    return std::to_integer<std::uint8_t>(d_[at]);
  }
  std::uint16_t u16(std::size_t at) const { return static_cast<std::uint16_t>(u8(at) | (u8(at + 1) << 8)); }
  std::uint32_t u32(std::size_t at) const {
    return static_cast<std::uint32_t>(u16(at)) | (static_cast<std::uint32_t>(u16(at + 2)) << 16);
  }
  std::uint64_t u64(std::size_t at) const {
    return static_cast<std::uint64_t>(u32(at)) | (static_cast<std::uint64_t>(u32(at + 4)) << 32);
  }
  bytes slice(std::size_t at, std::size_t n) const {
    if (at + n > d_.size()) bad(at, "slice past the end");
    return bytes(d_.begin() + static_cast<std::ptrdiff_t>(at), d_.begin() + static_cast<std::ptrdiff_t>(at + n));
  }
  void expect_zero(std::size_t from, std::size_t to) const {
    for (auto i = from; i < to; ++i)
      if (u8(i) != 0) bad(i, "non-zero padding");
  }
  static std::size_t pad4(std::size_t n) { return (n + 3) / 4 * 4; }

  static bool valid_utf8(const bytes& b) {
    std::size_t i = 0;
    while (i < b.size()) {
      const auto c = std::to_integer<unsigned>(b[i]);
      std::size_t n = 0;  // continuation bytes
      if (c < 0x80)
        n = 0;
      else if (c >= 0xC2 && c <= 0xDF)
        n = 1;
      else if ((c & 0xF0) == 0xE0)
        n = 2;
      else if (c >= 0xF0 && c <= 0xF4)
        n = 3;
      else
        return false;
      if (i + n >= b.size()) return false;
      for (std::size_t k = 1; k <= n; ++k)
        if ((std::to_integer<unsigned>(b[i + k]) & 0xC0) != 0x80) return false;
      i += n + 1;
    }
    return true;
  }

  // Options from `at` to `end`: each padded, all known for the block type,
  // strings valid UTF-8, and (when any) a final opt_endofopt.
  std::vector<option> options(std::size_t at, std::size_t end, std::uint32_t block_type) const {
    std::vector<option> out;
    if (at == end) return out;
    while (true) {
      if (at + 4 > end) bad(at, "option header past the block end");
      option o;
      o.code = u16(at);
      const std::size_t len = u16(at + 2);
      if (o.code == 0) {
        if (len != 0) bad(at, "opt_endofopt with a non-zero length");
        if (at + 4 != end) bad(at, "data after opt_endofopt");
        if (out.empty()) bad(at, "opt_endofopt with no option before it");
        return out;
      }
      if (at + 4 + pad4(len) > end) bad(at, "option value past the block end");
      o.value = slice(at + 4, len);
      expect_zero(at + 4 + len, at + 4 + pad4(len));
      check_option(at, block_type, o, out);
      out.push_back(std::move(o));
      at += 4 + pad4(len);
    }
  }

  static void check_option(std::size_t at, std::uint32_t block_type, const option& o,
                           const std::vector<option>& before) {
    bool text = true;
    bool once = true;
    if (o.code == 1) {
      once = false;  // opt_comment, anywhere, repeatable
    } else if (block_type == 0x0A0D0D0A) {
      if (o.code < 2 || o.code > 4) bad(at, "unknown SHB option " + std::to_string(o.code));
    } else if (block_type == 1) {
      if (o.code == 9) {
        text = false;
        if (o.value.size() != 1) bad(at, "if_tsresol must be 1 byte");
      } else if (o.code != 2 && o.code != 3) {
        bad(at, "unknown IDB option " + std::to_string(o.code));
      }
    } else {
      bad(at, "unexpected option " + std::to_string(o.code) + " in block type " + std::to_string(block_type));
    }
    if (text && o.value.empty()) bad(at, "empty string option");
    if (text && !valid_utf8(o.value)) bad(at, "string option is not UTF-8");
    if (once && find_option(before, o.code) != nullptr) bad(at, "repeated option " + std::to_string(o.code));
  }

  // The blocks in order: the first an SHB, each framed by matching lengths.
  std::vector<block> run() {
    std::vector<block> out;
    std::size_t at = 0;
    while (at < d_.size()) {
      if (at % 4 != 0) bad(at, "block not 32-bit aligned");
      if (d_.size() - at < 12) bad(at, "truncated block header");
      block b;
      b.type = u32(at);
      b.total_length = u32(at + 4);
      if (b.total_length < 12 || b.total_length % 4 != 0) bad(at, "bad block total length");
      if (b.total_length > d_.size() - at) bad(at, "block longer than the data");
      const std::size_t end = at + b.total_length - 4;  // start of the trailing length
      if (u32(end) != b.total_length) bad(end, "trailing block total length differs");
      if (out.empty() && b.type != 0x0A0D0D0A) bad(at, "first block is not an SHB");
      b.body = block_body(b.type, at, end);
      out.push_back(std::move(b));
      at = end + 4;
    }
    if (out.empty()) bad(0, "no blocks");
    return out;
  }

  // The body of the block at `at` whose trailing length starts at `end`.
  decltype(block::body) block_body(std::uint32_t type, std::size_t at, std::size_t end) {
    const std::size_t body = at + 8;
    switch (type) {
      case 0x0A0D0D0A:
        return section_header_at(at, body, end);
      case 1:
        return interface_at(at, body, end);
      case 6:
        return packet_at(at, body, end);
      case 4:
        return name_resolution_at(body, end);
      default:
        bad(at, "unexpected block type " + std::to_string(type));
    }
  }

  // An SHB starts a section: no interfaces declared yet.
  section_header section_header_at(std::size_t at, std::size_t body, std::size_t end) {
    if (end - body < 16) bad(at, "SHB too short");
    if (u32(body) != 0x1A2B3C4D) bad(body, "bad byte-order magic");
    section_header s;
    s.major = u16(body + 4);
    s.minor = u16(body + 6);
    if (s.major != 1 || s.minor != 0) bad(body, "version is not 1.0");
    s.section_length = static_cast<std::int64_t>(u64(body + 8));
    s.options = options(body + 16, end, 0x0A0D0D0A);
    snaplens_.clear();
    return s;
  }

  interface_description interface_at(std::size_t at, std::size_t body, std::size_t end) {
    if (end - body < 8) bad(at, "IDB too short");
    interface_description i;
    i.link_type = u16(body);
    if (u16(body + 2) != 0) bad(body, "IDB reserved field is not zero");
    i.snaplen = u32(body + 4);
    i.options = options(body + 8, end, 1);
    snaplens_.push_back(i.snaplen);
    return i;
  }

  enhanced_packet packet_at(std::size_t at, std::size_t body, std::size_t end) const {
    if (end - body < 20) bad(at, "EPB too short");
    enhanced_packet p;
    p.interface_id = u32(body);
    if (p.interface_id >= snaplens_.size()) bad(body, "EPB for an undeclared interface");
    p.timestamp = (static_cast<std::uint64_t>(u32(body + 4)) << 32) | u32(body + 8);
    p.captured = u32(body + 12);
    p.original = u32(body + 16);
    if (pad4(p.captured) > end - body - 20) bad(body, "captured length exceeds the block");
    if (p.original < p.captured) bad(body, "original length below captured length");
    const auto snap = snaplens_[p.interface_id];
    if (snap != 0 && p.captured > snap) bad(body, "captured length above snaplen");
    p.data = slice(body + 20, p.captured);
    expect_zero(body + 20 + p.captured, body + 20 + pad4(p.captured));
    p.options = options(body + 20 + pad4(p.captured), end, 6);
    return p;
  }

  // Records up to nrb_record_end (at least one), then options.
  name_resolution name_resolution_at(std::size_t body, std::size_t end) const {
    name_resolution n;
    std::size_t r = body;
    while (true) {
      if (r + 4 > end) bad(r, "NRB without nrb_record_end");
      const auto type = u16(r);
      const std::size_t len = u16(r + 2);
      if (type == 0) {
        if (len != 0) bad(r, "nrb_record_end with a non-zero length");
        r += 4;
        break;
      }
      n.records.push_back(name_record_at(r, end, type, len));
      r += 4 + pad4(len);
    }
    if (n.records.empty()) bad(body, "NRB with no record");
    n.options = options(r, end, 4);
    return n;
  }

  // One IPv4 (type 1) or IPv6 (type 2) record: the address, then NUL-terminated names.
  name_entry name_record_at(std::size_t r, std::size_t end, std::uint16_t type, std::size_t len) const {
    if (type != 1 && type != 2) bad(r, "unknown NRB record type");
    if (r + 4 + pad4(len) > end) bad(r, "NRB record past the block end");
    const std::size_t alen = type == 1 ? 4 : 16;
    if (len < alen + 2) bad(r, "NRB record without a name");
    name_entry e;
    e.type = type;
    e.address = slice(r + 4, alen);
    if (u8(r + 4 + len - 1) != 0) bad(r, "NRB record does not end with NUL");
    std::string cur;
    for (std::size_t k = r + 4 + alen; k < r + 4 + len; ++k) {
      const auto c = u8(k);
      if (c != 0) {
        cur.push_back(static_cast<char>(c));
        continue;
      }
      if (cur.empty()) bad(k, "empty name in NRB record");
      e.names.push_back(std::move(cur));
      cur.clear();
    }
    expect_zero(r + 4 + len, r + 4 + pad4(len));
    return e;
  }

  std::span<const std::byte> d_;
  std::vector<std::uint32_t> snaplens_;  // of the current section's interfaces, by id
};

template <class T>
std::vector<T> all_of(const std::vector<block>& blocks) {
  std::vector<T> out;
  for (const auto& b : blocks)
    if (const auto* p = std::get_if<T>(&b.body)) out.push_back(*p);
  return out;
}

}  // namespace pcapng_test
