// The wire-egress filter builder: header blocks, per-protocol sections,
// the port search tree, the coarse fallback; and the userspace twin.
#include "capture/wire_filter.hpp"

#include <linux/if_ether.h>

#include <algorithm>
#include <array>

#include "net/packet/frame.hpp"

namespace netpen::capture {

namespace {

using program = std::vector<sock_filter>;

constexpr std::size_t max_conditional_jump = 255;
constexpr std::uint32_t ipv4_fragment_offset_mask = 0x1fff;
constexpr std::uint32_t ipv6_header_size = 40;

constexpr std::uint32_t ancillary(int field) { return static_cast<std::uint32_t>(SKF_AD_OFF + field); }

sock_filter stmt(int code, std::uint32_t k) { return sock_filter{static_cast<std::uint16_t>(code), 0, 0, k}; }

sock_filter jump(int code, std::uint32_t k, std::size_t jt, std::size_t jf) {
  return sock_filter{static_cast<std::uint16_t>(BPF_JMP | code | BPF_K), static_cast<std::uint8_t>(jt),
                     static_cast<std::uint8_t>(jf), k};
}

sock_filter jump_always(std::size_t offset) { return stmt(BPF_JMP | BPF_JA, static_cast<std::uint32_t>(offset)); }
sock_filter ret(std::uint32_t k) { return stmt(BPF_RET | BPF_K, k); }
sock_filter load_pkttype() { return stmt(BPF_LD | BPF_W | BPF_ABS, ancillary(SKF_AD_PKTTYPE)); }

void append(program& to, const program& from) { to.insert(to.end(), from.begin(), from.end()); }

// Up to wire_leaf_ports `jeq`, then `ret #0`, then `ret #snaplen`.
program leaf(std::span<const std::uint16_t> ports, std::uint32_t snaplen) {
  program out;
  const auto n = ports.size();
  for (std::size_t i = 0; i < n; ++i) out.push_back(jump(BPF_JEQ, ports[i], n - i, 0));
  out.push_back(ret(0));
  out.push_back(ret(snaplen));
  return out;
}

// Returns snaplen when A (a port) is in `sorted`, else 0. Self-contained:
// every jump lands inside the returned code.
program search(std::span<const std::uint16_t> sorted, std::uint32_t snaplen) {
  if (sorted.size() <= wire_leaf_ports) return leaf(sorted, snaplen);
  const auto half = sorted.size() / 2;
  const program lower = search(sorted.first(half), snaplen);
  const program upper = search(sorted.subspan(half), snaplen);
  program out;
  if (lower.size() <= max_conditional_jump) {
    out.push_back(jump(BPF_JGE, sorted[half], lower.size(), 0));
  } else {
    out.push_back(jump(BPF_JGE, sorted[half], 0, 1));
    out.push_back(jump_always(lower.size()));
  }
  append(out, lower);
  append(out, upper);
  return out;
}

program tail(std::span<const std::uint16_t> sorted, bool coarse, std::uint32_t snaplen) {
  return coarse ? program{ret(snaplen)} : search(sorted, snaplen);
}

// TCP/UDP with X = L4 offset: the source port when sent, the destination
// port when received, looked up in the set.
program port_section(std::span<const std::uint16_t> sorted, bool coarse, std::uint32_t snaplen) {
  program out{
      load_pkttype(),
      jump(BPF_JEQ, pkttype_outgoing, 0, 2),
      stmt(BPF_LD | BPF_H | BPF_IND, 0),  // source port
      jump_always(3),
      jump(BPF_JEQ, pkttype_host, 1, 0),
      ret(0),
      stmt(BPF_LD | BPF_H | BPF_IND, 2),  // destination port
  };
  append(out, tail(sorted, coarse, snaplen));
  return out;
}

// ICMP/ICMPv6 with X = L4 offset: an echo request sent or an echo reply
// received, its identifier looked up in the set.
program echo_section(std::uint8_t request, std::uint8_t reply, std::span<const std::uint16_t> sorted, bool coarse,
                     std::uint32_t snaplen) {
  program out{
      load_pkttype(),
      jump(BPF_JEQ, pkttype_outgoing, 0, 2),
      stmt(BPF_LD | BPF_B | BPF_IND, 0),  // type
      jump(BPF_JEQ, request, 4, 3),
      jump(BPF_JEQ, pkttype_host, 0, 2),
      stmt(BPF_LD | BPF_B | BPF_IND, 0),
      jump(BPF_JEQ, reply, 1, 0),
      ret(0),
  };
  if (coarse) {
    out.push_back(ret(snaplen));
  } else {
    out.push_back(stmt(BPF_LD | BPF_H | BPF_IND, 4));  // identifier
    append(out, search(sorted, snaplen));
  }
  return out;
}

// One protocol's set and its code.
struct section {
  std::uint8_t protocol = 0;
  bool ipv4 = false, ipv6 = false;
  std::vector<std::uint16_t> sorted;
  bool coarse = false;
  program exact;  // built once
  const program& code(std::uint32_t snaplen, program& scratch) const {
    if (!coarse) return exact;
    scratch = protocol == packet::proto_tcp || protocol == packet::proto_udp
                  ? port_section(sorted, true, snaplen)
              : protocol == packet::proto_icmp ? echo_section(8, 0, sorted, true, snaplen)
                                               : echo_section(128, 129, sorted, true, snaplen);
    return scratch;
  }
};

std::vector<std::uint16_t> sorted_unique(std::vector<std::uint16_t> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

std::vector<section> make_sections(const wire_ports& p, std::uint32_t snaplen) {
  std::vector<section> out;
  auto add = [&](std::uint8_t protocol, bool v4, bool v6, const std::vector<std::uint16_t>& ports) {
    auto sorted = sorted_unique(ports);
    if (sorted.empty()) return;
    section s{.protocol = protocol, .ipv4 = v4, .ipv6 = v6, .sorted = std::move(sorted), .coarse = false, .exact = {}};
    s.exact = protocol == packet::proto_tcp || protocol == packet::proto_udp
                  ? port_section(s.sorted, false, snaplen)
              : protocol == packet::proto_icmp ? echo_section(8, 0, s.sorted, false, snaplen)
                                               : echo_section(128, 129, s.sorted, false, snaplen);
    out.push_back(std::move(s));
  };
  add(packet::proto_tcp, true, true, p.tcp);
  add(packet::proto_udp, true, true, p.udp);
  add(packet::proto_icmp, true, false, p.icmp_ids);
  add(packet::proto_icmpv6, false, true, p.icmpv6_ids);
  return out;
}

// A `ja` in the header still to be pointed at a section.
struct patch {
  std::size_t at;
  std::size_t section;
};

// `jeq #protocol, 0, 1; ja <section>` for each section of the family.
void dispatch(program& out, std::size_t base, const std::vector<section>& sections, bool v6,
              std::vector<patch>& patches) {
  for (std::size_t i = 0; i < sections.size(); ++i) {
    if (!(v6 ? sections[i].ipv6 : sections[i].ipv4)) continue;
    out.push_back(jump(BPF_JEQ, sections[i].protocol, 0, 1));
    patches.push_back({base + out.size(), i});
    out.push_back(jump_always(0));
  }
}

// IPv4: no later fragments; X = 4 * IHL; A = protocol; dispatch.
program ipv4_block(std::size_t base, const std::vector<section>& sections, std::vector<patch>& patches) {
  program out{
      stmt(BPF_LD | BPF_H | BPF_ABS, 6),
      jump(BPF_JSET, ipv4_fragment_offset_mask, 0, 0),  // jt set below
      stmt(BPF_LDX | BPF_B | BPF_MSH, 0),
      stmt(BPF_LD | BPF_B | BPF_ABS, 9),
  };
  dispatch(out, base, sections, false, patches);
  out.push_back(ret(0));
  out[1].jt = static_cast<std::uint8_t>(out.size() - 3);
  return out;
}

// IPv6 (A = ethertype on entry): X = 40; A = next header; dispatch.
program ipv6_block(std::size_t base, const std::vector<section>& sections, std::vector<patch>& patches) {
  program out{
      jump(BPF_JEQ, ETH_P_IPV6, 0, 0),  // jf set below
      stmt(BPF_LDX | BPF_W | BPF_IMM, ipv6_header_size),
      stmt(BPF_LD | BPF_B | BPF_ABS, 6),
  };
  dispatch(out, base, sections, true, patches);
  out.push_back(ret(0));
  out[0].jf = static_cast<std::uint8_t>(out.size() - 2);
  return out;
}

program assemble(const std::vector<section>& sections, std::uint32_t snaplen) {
  std::vector<patch> patches;
  program out{
      stmt(BPF_LD | BPF_W | BPF_ABS, ancillary(SKF_AD_PROTOCOL)),
      jump(BPF_JEQ, ETH_P_IP, 0, 0),  // jf set below
  };
  const program v4 = ipv4_block(out.size(), sections, patches);
  out[1].jf = static_cast<std::uint8_t>(v4.size());
  append(out, v4);
  append(out, ipv6_block(out.size(), sections, patches));

  std::vector<std::size_t> starts;
  program scratch;
  for (const auto& s : sections) {
    starts.push_back(out.size());
    append(out, s.code(snaplen, scratch));
  }
  for (const auto& p : patches) out[p.at].k = static_cast<std::uint32_t>(starts[p.section] - p.at - 1);
  return out;
}

// The exact section with the longest code, if any.
section* largest_exact(std::vector<section>& sections) {
  section* best = nullptr;
  for (auto& s : sections)
    if (!s.coarse && (best == nullptr || s.exact.size() > best->exact.size())) best = &s;
  return best;
}

std::uint16_t be16(std::span<const std::byte> b, std::size_t at) {
  return static_cast<std::uint16_t>(std::to_integer<unsigned>(b[at]) << 8 | std::to_integer<unsigned>(b[at + 1]));
}

packet::ip_address address_at(std::span<const std::byte> b, std::size_t at, bool v6) {
  packet::ip_address a;
  a.v6 = v6;
  const std::size_t n = v6 ? 16 : 4;
  for (std::size_t i = 0; i < n; ++i) a.bytes[i] = std::to_integer<std::uint8_t>(b[at + i]);
  return a;
}

struct ip_view {
  std::uint8_t protocol = 0;
  std::size_t l4 = 0;  // offset of the L4 header
  packet::ip_address src, dst;
};

std::optional<ip_view> parse_ip(std::span<const std::byte> ip) {
  if (ip.empty()) return std::nullopt;
  const auto first = std::to_integer<unsigned>(ip[0]);
  if (first >> 4 == 4) {
    const std::size_t ihl = (first & 0xfu) * 4;
    if (ihl < 20 || ip.size() < ihl) return std::nullopt;
    if ((be16(ip, 6) & ipv4_fragment_offset_mask) != 0) return std::nullopt;
    return ip_view{std::to_integer<std::uint8_t>(ip[9]), ihl, address_at(ip, 12, false), address_at(ip, 16, false)};
  }
  if (first >> 4 == 6) {
    if (ip.size() < ipv6_header_size) return std::nullopt;
    return ip_view{std::to_integer<std::uint8_t>(ip[6]), ipv6_header_size, address_at(ip, 8, true),
                   address_at(ip, 24, true)};
  }
  return std::nullopt;
}

}  // namespace

std::vector<sock_filter> reject_all_filter() { return {ret(0)}; }

wire_filter build_wire_filter(const wire_ports& ports, std::uint32_t snaplen, std::size_t max_instructions) {
  auto sections = make_sections(ports, snaplen);
  if (sections.empty()) return wire_filter{reject_all_filter(), {}};
  for (;;) {
    auto code = assemble(sections, snaplen);
    section* victim = code.size() > max_instructions ? largest_exact(sections) : nullptr;
    if (victim == nullptr) {
      wire_filter out{std::move(code), {}};
      for (const auto& s : sections)
        if (s.coarse) out.coarse.push_back(s.protocol);
      return out;
    }
    victim->coarse = true;
  }
}

std::optional<relay::host_conn> wire_socket_of(std::span<const std::byte> ip_packet, bool outgoing) {
  const auto ip = parse_ip(ip_packet);
  if (!ip) return std::nullopt;
  const bool v6 = ip->src.v6;
  relay::host_conn c;
  c.protocol = ip->protocol;
  c.remote = outgoing ? ip->dst : ip->src;
  const auto l4 = ip_packet.subspan(ip->l4);
  switch (ip->protocol) {
    case packet::proto_tcp:
    case packet::proto_udp:
      if (l4.size() < 4) return std::nullopt;
      c.local_port = be16(l4, outgoing ? 0 : 2);
      c.remote_port = be16(l4, outgoing ? 2 : 0);
      return c;
    case packet::proto_icmp:
    case packet::proto_icmpv6: {
      if ((ip->protocol == packet::proto_icmpv6) != v6 || l4.size() < 6) return std::nullopt;
      const std::uint8_t request = v6 ? 128 : 8, reply = v6 ? 129 : 0;
      if (std::to_integer<std::uint8_t>(l4[0]) != (outgoing ? request : reply)) return std::nullopt;
      c.local_port = be16(l4, 4);
      return c;
    }
    default:
      return std::nullopt;
  }
}

}  // namespace netpen::capture
