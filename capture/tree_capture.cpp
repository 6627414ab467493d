// The run's capture points and files (see tree_capture.hpp).
#include "capture/tree_capture.hpp"

#include <fmt/format.h>
#include <sys/utsname.h>

#include <asio/ip/address.hpp>

#include "net/relay/host_socket.hpp"

namespace netpen::capture {
namespace {

section_info section_for(const std::string& run_description) {
  section_info section;
  utsname u{};
  if (::uname(&u) == 0) {
    section.hardware = u.machine;
    section.os = fmt::format("{} {}", u.sysname, u.release);
  }
  section.application = fmt::format("netpen {}", NETPEN_VERSION);
  section.comment = run_description;
  return section;
}

}  // namespace

std::vector<std::string> tree_capture::paths_for(const std::string& path, point at) {
  if (at != point::both) return {path};
  constexpr std::string_view ext = ".pcapng";
  std::string base = path;
  if (base.size() > ext.size() && base.ends_with(ext)) base.resize(base.size() - ext.size());
  return {base + ".child.pcapng", base + ".egress.pcapng"};
}

result<std::unique_ptr<tree_capture>> tree_capture::open(const std::string& path, point at,
                                                         const std::string& run_description,
                                                         std::optional<std::pair<uid_t, gid_t>> owner,
                                                         bool kernel_forwarded) {
  std::unique_ptr<tree_capture> cap(new tree_capture());
  // The packet socket first: without the privilege it needs, no file is touched.
  if (kernel_forwarded && at != point::child) {
    auto forward = rootful_egress_point::open(cap->comments_);
    if (!forward) return unexpected<error>(forward.error());
    cap->rootful_egress_ = std::move(*forward);
  }
  if (at == point::wire_egress || cap->rootful_egress_) {
    auto wire = wire_egress_point::open(cap->comments_);
    if (!wire) return unexpected<error>(wire.error());
    cap->wire_egress_ = std::move(*wire);
  }
  cap->paths_ = paths_for(path, at);
  const auto section = section_for(run_description);
  auto create = [&](const std::string& file_path, const interface_info& itf) -> result<capture_file*> {
    auto file = capture_file::create(file_path, section, {itf}, owner);
    if (!file) return unexpected<error>(file.error());
    cap->files_.push_back(std::move(*file));
    return cap->files_.back().get();
  };
  switch (at) {
    case point::child:
    case point::both: {
      auto file = create(cap->paths_.front(), child_point::interface());
      if (!file) return unexpected<error>(file.error());
      cap->child_ = std::make_unique<child_point>(**file, cap->comments_);
      if (at == point::child) break;
      [[fallthrough]];
    }
    case point::egress: {
      if (cap->rootful_egress_) break;
      auto file = create(cap->paths_.back(), egress_point::interface());
      if (!file) return unexpected<error>(file.error());
      cap->egress_ = std::make_unique<egress_point>(**file, cap->comments_);
      break;
    }
    case point::wire_egress: {
      if (cap->rootful_egress_) break;
      auto file = create(cap->paths_.front(), wire_egress_point::interface());
      if (!file) return unexpected<error>(file.error());
      cap->wire_egress_->attach(**file);
      break;
    }
  }
  if (cap->rootful_egress_) {  // one file: the forwarded flows and the engine's own host sockets (proxy mode)
    auto file = create(cap->paths_.back(), rootful_egress_point::interface());
    if (!file) return unexpected<error>(file.error());
    cap->rootful_egress_->attach(**file);
    cap->wire_egress_->attach(**file);
  }
  return cap;
}

tree_capture::~tree_capture() { close(); }

result<void> tree_capture::start() {
  for (auto& file : files_)
    if (auto started = file->start(); !started) return started;
  if (wire_egress_) {
    if (auto started = wire_egress_->start(); !started) return started;
  }
  if (rootful_egress_) return rootful_egress_->start();
  return {};
}

void tree_capture::set_tree(const std::vector<std::string>& addresses) {
  if (!rootful_egress_) return;
  std::vector<packet::ip_address> parsed;
  for (const auto& text : addresses) {
    asio::error_code ec;
    const auto a = asio::ip::make_address(text, ec);
    if (!ec) parsed.push_back(relay::from_asio(a));
  }
  rootful_egress_->set_tree(std::move(parsed));
}

std::optional<std::uint16_t> tree_capture::log_group() const {
  if (rootful_egress_) return rootful_egress_->group();
  return std::nullopt;
}

relay::egress_observer* tree_capture::egress() {
  if (egress_) return egress_.get();
  return wire_egress_.get();
}

void tree_capture::on_event(const events::event& e) {
  comments_.on_event(e);
  if (e.what != events::kind::dns_answer) return;
  const auto records = name_records(e);
  if (records.empty()) return;
  for (const auto& f : files_) f->names(records);
}

void tree_capture::close() {
  if (wire_egress_) wire_egress_->close();  // no packet after this
  if (rootful_egress_) rootful_egress_->close();
  for (const auto& f : files_) f->close();
}

void tree_capture::set_on_write_error(const std::function<void(const error&)>& callback) {
  for (auto& f : files_) f->set_on_error(callback);
}

std::uint64_t tree_capture::packets_written() const {
  std::uint64_t n = 0;
  for (const auto& f : files_) n += f->packets_written();
  return n;
}

std::uint64_t tree_capture::packets_dropped() const {
  std::uint64_t n = wire_egress_ ? wire_egress_->packets_dropped() : 0;
  if (rootful_egress_) n += rootful_egress_->packets_dropped();
  for (const auto& f : files_) n += f->packets_dropped();
  return n;
}

std::vector<error> tree_capture::errors() const {
  std::vector<error> out;
  if (wire_egress_) {
    if (auto e = wire_egress_->last_error()) out.push_back(*e);
  }
  if (rootful_egress_) {
    if (auto e = rootful_egress_->last_error()) out.push_back(*e);
  }
  for (const auto& f : files_)
    if (auto e = f->last_error()) out.push_back(*e);
  return out;
}

}  // namespace netpen::capture
