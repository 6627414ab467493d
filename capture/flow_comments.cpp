// The capture's knowledge from the event stream (see flow_comments.hpp).
#include "capture/flow_comments.hpp"

#include <asio/ip/address.hpp>

#include <charconv>
#include <optional>

#include "net/events/text_util.hpp"
#include "net/relay/host_socket.hpp"

namespace netpen::capture {
namespace {

constexpr std::size_t claim_path_max = 200;  // of a claimed HTTP path in a comment

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

void flow_comments::on_event(const events::event& e) {
  if (e.what != events::kind::flow_open && e.what != events::kind::flow_close) return;
  const auto id = flow_of(e);
  if (!id) return;
  const std::lock_guard lock(mutex_);
  if (e.what == events::kind::flow_open) {
    if (std::string comment = comment_for(e); !comment.empty()) comments_[*id] = std::move(comment);
  } else {
    comments_.erase(*id);
  }
  count_.store(comments_.size(), std::memory_order_relaxed);
}

std::string flow_comments::for_flow(const relay::flow_key& child) const {
  if (!any()) return {};
  const std::lock_guard lock(mutex_);
  const auto it = comments_.find(child);
  return it == comments_.end() ? std::string() : it->second;
}

std::string comment_for(const events::event& e) {
  std::string comment = e.process ? events::to_text(*e.process) : std::string();
  const std::string claim = events::claim_text(e, claim_path_max);
  if (!claim.empty()) comment += (comment.empty() ? "" : "; ") + claim;
  return comment;
}

std::vector<name_record> name_records(const events::event& e) {
  std::vector<name_record> records;
  if (e.what != events::kind::dns_answer) return records;
  for (const auto& a : e.answers)
    if (auto r = record_for(a, e.query)) records.push_back(std::move(*r));
  return records;
}

}  // namespace netpen::capture
