// The tap-boundary capture (see tree_capture.hpp).
#include "capture/tree_capture.hpp"

#include <asio/ip/address.hpp>
#include <fmt/format.h>
#include <sys/utsname.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "net/packet/frame.hpp"
#include "net/relay/flow_key.hpp"

namespace netpen::capture {
namespace {

// The flow a frame belongs to, in the words the events use (child's view:
// the child's endpoint first), or "" for frames that are not TCP/UDP.
std::string flow_id(const packet::frame& f, relay::frame_direction d) {
  if (f.kind != packet::l4_kind::tcp && f.kind != packet::l4_kind::udp) return {};
  const bool tcp = f.kind == packet::l4_kind::tcp;
  const std::uint16_t sport = tcp ? f.tcp.src_port : f.udp.src_port;
  const std::uint16_t dport = tcp ? f.tcp.dst_port : f.udp.dst_port;
  const bool out = d == relay::frame_direction::from_child;
  return fmt::format("{} {} {}", tcp ? "tcp" : "udp", relay::endpoint_text(out ? f.src : f.dst, out ? sport : dport),
                     relay::endpoint_text(out ? f.dst : f.src, out ? dport : sport));
}

std::optional<name_record> record_for(const std::string& address, const std::string& name) {
  asio::error_code ec;
  const auto a = asio::ip::make_address(address, ec);
  if (ec) return std::nullopt;
  name_record r;
  r.v6 = a.is_v6();
  if (r.v6) {
    const auto b = a.to_v6().to_bytes();
    std::copy(b.begin(), b.end(), r.address.begin());
  } else {
    const auto b = a.to_v4().to_bytes();
    std::copy(b.begin(), b.end(), r.address.begin());
  }
  r.names = {name};
  return r;
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
  thread_local std::vector<std::byte> whole;
  std::span<const std::byte> data = head;
  if (!p0.empty() || !p1.empty()) {
    whole.resize(head.size() + p0.size() + p1.size());
    std::memcpy(whole.data(), head.data(), head.size());
    if (!p0.empty()) std::memcpy(whole.data() + head.size(), p0.data(), p0.size());
    if (!p1.empty()) std::memcpy(whole.data() + head.size() + p0.size(), p1.data(), p1.size());
    data = whole;
  }
  std::string comment;
  {
    std::lock_guard lock(mutex_);
    if (!comments_.empty()) {
      if (auto f = packet::parse_frame(data)) {
        if (auto it = comments_.find(flow_id(*f, d)); it != comments_.end()) comment = it->second;
      }
    }
  }
  file_->packet(0, wall_clock_ns(), data, static_cast<std::uint32_t>(data.size()), comment);
}

void tree_capture::on_event(const events::event& e) {
  if (e.what == events::kind::dns_answer) {
    std::vector<name_record> records;
    for (const auto& a : e.answers)
      if (auto r = record_for(a, e.query)) records.push_back(std::move(*r));
    if (!records.empty()) file_->names(records);
    return;
  }
  if (e.protocol != "tcp" && e.protocol != "udp") return;
  const std::string id = fmt::format("{} {} {}", e.protocol, e.source, e.destination);
  std::lock_guard lock(mutex_);
  if (e.what == events::kind::flow_open && e.process) {
    comments_[id] = fmt::format("pid {} (sandbox pid {}): {}", e.process->pid, e.process->sandbox_pid,
                                e.process->command);
  } else if (e.what == events::kind::flow_close) {
    comments_.erase(id);
  }
}

void tree_capture::close() { file_->close(); }

}  // namespace netpen::capture
