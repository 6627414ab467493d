// The tap-boundary capture (see tree_capture.hpp).
#include "capture/tree_capture.hpp"

#include <asio/ip/address.hpp>
#include <fmt/format.h>
#include <sys/utsname.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <vector>

#include "net/packet/frame.hpp"  // ethertypes, protocol numbers, ip_address
#include "net/relay/flow_key.hpp"
#include "net/relay/host_socket.hpp"

namespace netpen::capture {
namespace {

// The flow a frame belongs to, as the child sees it (its own endpoint as
// src), or nullopt for frames that are not TCP/UDP over IPv4/IPv6 without
// extension headers. Reads only the headers (all in the frame's first
// piece) and checks nothing else: this runs for every captured frame, and a
// wrong key only means no comment.
std::optional<relay::flow_key> flow_of(std::span<const std::byte> head, relay::frame_direction d) {
  auto at = [&](std::size_t i) { return std::to_integer<std::uint8_t>(head[i]); };
  auto be16 = [&](std::size_t i) { return static_cast<std::uint16_t>(at(i) << 8 | at(i + 1)); };
  constexpr std::size_t eth = 14;
  if (head.size() < eth + 20) return std::nullopt;
  const std::uint16_t ethertype = be16(12);
  relay::flow_key k;
  packet::ip_address src, dst;
  std::size_t l4 = 0;
  if (ethertype == packet::ethertype_ipv4) {
    const std::size_t ihl = std::size_t{at(eth) & 0x0fu} * 4;
    k.protocol = at(eth + 9);
    std::memcpy(src.bytes.data(), head.data() + eth + 12, 4);
    std::memcpy(dst.bytes.data(), head.data() + eth + 16, 4);
    l4 = eth + ihl;
  } else if (ethertype == packet::ethertype_ipv6) {
    if (head.size() < eth + 40) return std::nullopt;
    src.v6 = dst.v6 = true;
    k.protocol = at(eth + 6);
    std::memcpy(src.bytes.data(), head.data() + eth + 8, 16);
    std::memcpy(dst.bytes.data(), head.data() + eth + 24, 16);
    l4 = eth + 40;
  } else {
    return std::nullopt;
  }
  if ((k.protocol != packet::proto_tcp && k.protocol != packet::proto_udp) || head.size() < l4 + 4)
    return std::nullopt;
  const bool out = d == relay::frame_direction::from_child;
  k.src = out ? src : dst;
  k.dst = out ? dst : src;
  k.src_port = be16(out ? l4 : l4 + 2);
  k.dst_port = be16(out ? l4 + 2 : l4);
  return k;
}

// An address literal in the events' text (no brackets).
std::optional<packet::ip_address> parse_ip(const std::string& text) {
  asio::error_code ec;
  const auto addr = asio::ip::make_address(text, ec);
  if (ec) return std::nullopt;
  return relay::from_asio(addr);
}

// "10.248.0.2:40000" or "[fd6e::2]:40000" (the events' form) back to address and port.
bool parse_endpoint(std::string_view text, packet::ip_address& a, std::uint16_t& port) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string host(text.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const auto addr = parse_ip(host);
  if (!addr) return false;
  a = *addr;
  unsigned p = 0;
  const auto digits = text.substr(colon + 1);
  if (std::from_chars(digits.data(), digits.data() + digits.size(), p).ec != std::errc() || p > 0xffff) return false;
  port = static_cast<std::uint16_t>(p);
  return true;
}

// The flow an event is about, for TCP and UDP events.
std::optional<relay::flow_key> flow_of(const events::event& e) {
  relay::flow_key k;
  if (e.protocol == "tcp") k.protocol = packet::proto_tcp;
  else if (e.protocol == "udp") k.protocol = packet::proto_udp;
  else return std::nullopt;
  if (!parse_endpoint(e.source, k.src, k.src_port) || !parse_endpoint(e.destination, k.dst, k.dst_port))
    return std::nullopt;
  return k;
}

std::optional<name_record> record_for(const std::string& address, const std::string& name) {
  const auto a = parse_ip(address);
  if (!a) return std::nullopt;
  return name_record{a->bytes, a->v6, {name}};
}

}  // namespace

result<std::unique_ptr<tree_capture>> tree_capture::open(const std::string& path, const std::string& run_description,
                                                         std::optional<std::pair<uid_t, gid_t>> owner) {
  section_info section;
  utsname u{};
  if (::uname(&u) == 0) {
    section.hardware = u.machine;
    section.os = fmt::format("{} {}", u.sysname, u.release);
  }
  section.application = fmt::format("netpen {}", NETPEN_VERSION);
  section.comment = run_description;
  interface_info tap;
  tap.link_type = linktype_ethernet;
  tap.name = "tap0";
  tap.description = "netpen sandbox link (the command tree's side of the relay)";
  auto file = capture_file::create(path, section, {tap}, owner);
  if (!file) return unexpected<error>(file.error());
  return std::unique_ptr<tree_capture>(new tree_capture(std::move(*file)));
}

void tree_capture::frame(relay::frame_direction d, std::span<const std::byte> head, std::span<const std::byte> p0,
                         std::span<const std::byte> p1) {
  std::string comment;
  {
    std::lock_guard lock(mutex_);
    if (!comments_.empty()) {
      if (const auto key = flow_of(head, d)) {
        if (auto it = comments_.find(*key); it != comments_.end()) comment = it->second;
      }
    }
  }
  const std::span<const std::byte> pieces[] = {head, p0, p1};
  const auto length = static_cast<std::uint32_t>(head.size() + p0.size() + p1.size());
  file_->packet(0, wall_clock_ns(), pieces, length, comment);
}

void tree_capture::on_event(const events::event& e) {
  if (e.what == events::kind::dns_answer) {
    std::vector<name_record> records;
    for (const auto& a : e.answers)
      if (auto r = record_for(a, e.query)) records.push_back(std::move(*r));
    if (!records.empty()) file_->names(records);
    return;
  }
  if (e.what != events::kind::flow_open && e.what != events::kind::flow_close) return;
  const auto id = flow_of(e);
  if (!id) return;
  std::lock_guard lock(mutex_);
  if (e.what == events::kind::flow_open && e.process) {
    comments_[*id] = fmt::format("pid {} (sandbox pid {}): {}", e.process->pid, e.process->sandbox_pid,
                                e.process->command);
  } else if (e.what == events::kind::flow_close) {
    comments_.erase(*id);
  }
}

void tree_capture::close() { file_->close(); }

}  // namespace netpen::capture
