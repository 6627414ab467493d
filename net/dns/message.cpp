// DNS wire codec implementation (see message.hpp): bounds-checked readers,
// name decompression, answer extraction and reply builders.
#include "net/dns/message.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace netpen::dns {
namespace {

std::uint8_t u8(byte_view m, std::size_t at) { return std::to_integer<std::uint8_t>(m[at]); }

std::uint16_t u16(byte_view m, std::size_t at) {
  return static_cast<std::uint16_t>((u8(m, at) << 8) | u8(m, at + 1));
}

std::uint32_t u32(byte_view m, std::size_t at) {
  return (std::uint32_t{u16(m, at)} << 16) | u16(m, at + 2);
}

void put16(bytes& out, std::uint16_t v) {
  out.push_back(static_cast<std::byte>(v >> 8));
  out.push_back(static_cast<std::byte>(v & 0xff));
}

void put32(bytes& out, std::uint32_t v) {
  put16(out, static_cast<std::uint16_t>(v >> 16));
  put16(out, static_cast<std::uint16_t>(v & 0xffff));
}

void append_label_text(std::string& text, byte_view label) {
  if (!text.empty()) text.push_back('.');
  for (std::byte b : label) {
    const auto c = std::to_integer<unsigned char>(b);
    if (c == '.' || c == '\\') {
      text.push_back('\\');
      text.push_back(static_cast<char>(c));
    } else if (c < 0x21 || c > 0x7e) {
      text += fmt::format("\\{:03d}", c);
    } else {
      text.push_back(static_cast<char>(c));
    }
  }
}

unexpected<error> malformed(std::string_view what) {
  return fail("dns-malformed", fmt::format("malformed DNS message: {}", what));
}

// Header of a reply to `q`: same id, opcode and RD; QR and RA set.
void put_reply_header(bytes& out, const header& q, rcode code, std::uint16_t extra_flags,
                      std::uint16_t qdcount, std::uint16_t ancount) {
  const auto flags = static_cast<std::uint16_t>(flag_qr | (q.flags & (opcode_mask | flag_rd)) |
                                                flag_ra | extra_flags |
                                                static_cast<std::uint16_t>(code));
  put16(out, q.id);
  put16(out, flags);
  put16(out, qdcount);
  put16(out, ancount);
  put16(out, 0);
  put16(out, 0);
}

void put_question(bytes& out, const question& q) {
  out.insert(out.end(), q.qname.wire.begin(), q.qname.wire.end());
  put16(out, q.qtype);
  put16(out, q.qclass);
}

}  // namespace

result<header> parse_header(byte_view msg) {
  if (msg.size() < header_size) return malformed("shorter than a header");
  return header{u16(msg, 0), u16(msg, 2), u16(msg, 4), u16(msg, 6), u16(msg, 8), u16(msg, 10)};
}

result<name> read_name(byte_view msg, std::size_t offset, std::size_t& next) {
  name out;
  std::size_t pos = offset;
  std::size_t limit = msg.size();  // a pointer must target an offset below this
  bool jumped = false;
  for (;;) {
    if (pos >= msg.size()) return malformed("name runs past the end");
    const std::uint8_t len = u8(msg, pos);
    if ((len & 0xc0) == 0xc0) {
      if (pos + 1 >= msg.size()) return malformed("truncated compression pointer");
      const std::size_t target = u16(msg, pos) & 0x3fffu;
      if (target >= pos || target >= limit) return malformed("compression pointer does not point backwards");
      if (!jumped) next = pos + 2;
      jumped = true;
      limit = pos;
      pos = target;
      continue;
    }
    if ((len & 0xc0) != 0) return malformed("unsupported label type");
    if (out.wire.size() + 1u + len > max_name_wire) return malformed("name longer than 255 bytes");
    if (len == 0) {
      out.wire.push_back(std::byte{0});
      if (!jumped) next = pos + 1;
      return out;
    }
    if (pos + 1u + len > msg.size()) return malformed("label runs past the end");
    const byte_view label = msg.subspan(pos + 1, len);
    out.wire.push_back(static_cast<std::byte>(len));
    out.wire.insert(out.wire.end(), label.begin(), label.end());
    append_label_text(out.text, label);
    pos += 1u + len;
  }
}

result<parsed_query> parse_query(byte_view msg) {
  auto hdr = parse_header(msg);
  if (!hdr) return unexpected(hdr.error());
  if (hdr->qdcount == 0) return malformed("no question");
  std::size_t next = 0;
  auto qname = read_name(msg, header_size, next);
  if (!qname) return unexpected(qname.error());
  if (next + 4 > msg.size()) return malformed("question runs past the end");
  parsed_query out;
  out.hdr = *hdr;
  out.q.qname = std::move(*qname);
  out.q.qtype = u16(msg, next);
  out.q.qclass = u16(msg, next + 2);
  out.end = next + 4;
  return out;
}

std::vector<answer_record> extract_answers(byte_view msg) {
  std::vector<answer_record> out;
  auto hdr = parse_header(msg);
  if (!hdr) return out;
  std::size_t pos = header_size;
  for (std::uint16_t i = 0; i < hdr->qdcount; ++i) {
    std::size_t next = 0;
    if (!read_name(msg, pos, next) || next + 4 > msg.size()) return out;
    pos = next + 4;
  }
  for (std::uint16_t i = 0; i < hdr->ancount; ++i) {
    std::size_t next = 0;
    auto owner = read_name(msg, pos, next);
    if (!owner || next + 10 > msg.size()) return out;
    const std::uint16_t type = u16(msg, next);
    const std::uint16_t klass = u16(msg, next + 2);
    std::uint32_t ttl = u32(msg, next + 4);
    if (ttl > 0x7fffffffu) ttl = 0;  // RFC 2181 8: treat as zero
    const std::uint16_t rdlength = u16(msg, next + 8);
    const std::size_t rdata = next + 10;
    if (rdata + rdlength > msg.size()) return out;
    pos = rdata + rdlength;
    if (klass != class_in) continue;
    answer_record rec;
    rec.name = std::move(owner->text);
    rec.type = type;
    rec.ttl = ttl;
    if (type == type_a && rdlength == 4) {
      asio::ip::address_v4::bytes_type b{};
      for (std::size_t k = 0; k < b.size(); ++k) b[k] = u8(msg, rdata + k);
      rec.address = asio::ip::address_v4(b);
    } else if (type == type_aaaa && rdlength == 16) {
      asio::ip::address_v6::bytes_type b{};
      for (std::size_t k = 0; k < b.size(); ++k) b[k] = u8(msg, rdata + k);
      rec.address = asio::ip::address_v6(b);
    } else if (type == type_cname) {
      std::size_t end = 0;
      auto target = read_name(msg, rdata, end);
      if (!target || end > pos) return out;
      rec.target = std::move(target->text);
    } else {
      continue;
    }
    out.push_back(std::move(rec));
  }
  return out;
}

result<bytes> make_error_reply(byte_view query, rcode code) {
  auto hdr = parse_header(query);
  if (!hdr) return unexpected(hdr.error());
  bytes out;
  auto q = parse_query(query);
  if (!q) {
    put_reply_header(out, *hdr, code, 0, 0, 0);
    return out;
  }
  put_reply_header(out, *hdr, code, 0, 1, 0);
  put_question(out, q->q);
  return out;
}

result<bytes> make_address_reply(byte_view query, const std::vector<asio::ip::address>& addresses,
                                 std::uint32_t ttl, std::size_t max_size) {
  auto q = parse_query(query);
  if (!q) return unexpected(q.error());
  const bool want_v6 = q->q.qtype == type_aaaa;
  if (q->q.qclass != class_in || (q->q.qtype != type_a && !want_v6))
    return fail("dns-unsupported", "address replies answer only class IN A or AAAA questions");
  const std::size_t rr_size = 2 + 10 + (want_v6 ? 16u : 4u);
  std::size_t room = header_size + q->q.qname.wire.size() + 4;
  std::vector<asio::ip::address> chosen;
  bool truncated = false;
  for (const auto& a : addresses) {
    if (a.is_v6() != want_v6) continue;
    if (room + rr_size > max_size || chosen.size() == 0xffff) {
      truncated = true;
      break;
    }
    room += rr_size;
    chosen.push_back(a);
  }
  bytes out;
  out.reserve(room);
  put_reply_header(out, q->hdr, rcode::noerror, static_cast<std::uint16_t>(flag_aa | (truncated ? flag_tc : 0)),
                   1, static_cast<std::uint16_t>(chosen.size()));
  put_question(out, q->q);
  for (const auto& a : chosen) {
    put16(out, static_cast<std::uint16_t>(0xc000 | header_size));  // the question's name
    put16(out, q->q.qtype);
    put16(out, class_in);
    put32(out, ttl);
    if (want_v6) {
      put16(out, 16);
      for (auto b : a.to_v6().to_bytes()) out.push_back(static_cast<std::byte>(b));
    } else {
      put16(out, 4);
      for (auto b : a.to_v4().to_bytes()) out.push_back(static_cast<std::byte>(b));
    }
  }
  return out;
}

result<bytes> make_address_query(std::uint16_t id, std::string_view host, std::uint16_t qtype) {
  if (host.ends_with('.')) host.remove_suffix(1);
  if (host.empty()) return malformed("empty name");
  bytes out;
  put16(out, id);
  put16(out, flag_rd);
  put16(out, 1);
  for (int i = 0; i < 3; ++i) put16(out, 0);
  std::size_t wire = 1;
  for (std::size_t start = 0; start <= host.size();) {
    const auto dot = std::min(host.find('.', start), host.size());
    const auto label = host.substr(start, dot - start);
    wire += label.size() + 1;
    if (label.empty() || label.size() > max_label || wire > max_name_wire) return malformed("bad name");
    out.push_back(static_cast<std::byte>(label.size()));
    for (char c : label) out.push_back(static_cast<std::byte>(c));
    start = dot + 1;
  }
  out.push_back(std::byte{0});
  put16(out, qtype);
  put16(out, class_in);
  return out;
}

void set_id(bytes& msg, std::uint16_t id) {
  if (msg.size() < 2) return;
  msg[0] = static_cast<std::byte>(id >> 8);
  msg[1] = static_cast<std::byte>(id & 0xff);
}

bool same_name(byte_view a, byte_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto x = std::to_integer<unsigned char>(a[i]);
    auto y = std::to_integer<unsigned char>(b[i]);
    if (x >= 'A' && x <= 'Z') x = static_cast<unsigned char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<unsigned char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

result<bytes> frame_for_tcp(byte_view msg) {
  if (msg.size() > max_message) return fail("dns-too-large", "DNS message larger than 65535 bytes");
  bytes out;
  out.reserve(msg.size() + 2);
  put16(out, static_cast<std::uint16_t>(msg.size()));
  out.insert(out.end(), msg.begin(), msg.end());
  return out;
}

std::optional<tcp_frame> next_tcp_frame(byte_view buffer) {
  if (buffer.size() < 2) return std::nullopt;
  const std::size_t len = u16(buffer, 0);
  if (buffer.size() < 2 + len) return std::nullopt;
  return tcp_frame{buffer.subspan(2, len), 2 + len};
}

}  // namespace netpen::dns
