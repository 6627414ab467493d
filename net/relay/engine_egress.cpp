// The engine's view of where traffic may go beyond the flow rules: names for
// addresses (synthetic or looked up), events, and the datagrams --proxy-only
// keeps in (see engine.hpp). A denied datagram is answered the way a
// firewall would: ICMP "administratively prohibited" from the gateway.
#include "net/relay/destination.hpp"
#include "net/relay/engine.hpp"
#include "net/relay/host_socket.hpp"

namespace netpen::relay {
namespace {

constexpr std::size_t max_denied_remembered = 4096;
constexpr std::size_t max_quote = 576;

}  // namespace

std::optional<std::string> engine::name_for(const packet::ip_address& a) const {
  const auto address = to_asio(a);
  if (synthetic_ && dns::synthetic_names::in_range(address)) return synthetic_->name_for(address);
  return names_->lookup(address);
}

bool engine::is_synthetic(const packet::ip_address& a) const {
  return synthetic_ && dns::synthetic_names::in_range(to_asio(a));
}

bool engine::deny_datagram(const flow_key& key, const packet::frame& f, bool is_new) {
  if (opts_.proxy_only || is_synthetic(key.dst)) {
    auto e = flow_event(events::kind::denied, key, flow_record{});
    e.reason = opts_.proxy_only ? "--proxy-only: only TCP through the proxy may leave"
                                : "a name resolved for the proxy is reachable over TCP only";
    refuse_datagram(key, f, std::move(e));
    return true;
  }
  if (!is_new) return false;
  auto d = policy_denies(key);
  if (!d) return false;
  if (d->what == policy::verdict::ask) {
    if (allowed_once_.erase(key) > 0) return false;  // the user said "once": this flow
    if (opts_.approver != nullptr) {
      ask_for_datagram(key);
      udp_dropped_.fetch_add(1, std::memory_order_relaxed);
      return true;  // held (dropped) until answered
    }
    d->what = policy::verdict::deny;
    d->reason = policy::reason::not_allowed;
  }
  refuse_datagram(key, f, denied_event(key, *d));
  return true;
}

void engine::refuse_datagram(const flow_key& key, const packet::frame& f, events::event e) {
  icmp_report report;
  report.offender = gateway_address(key.dst.v6);
  report.type = key.dst.v6 ? 1 : 3;    // destination unreachable
  report.code = key.dst.v6 ? 1 : 13;   // administratively prohibited
  icmp_error_to_child(key, report,
                      f.ip_packet.first(std::min<std::size_t>(f.ip_packet.size(), max_quote)));
  udp_dropped_.fetch_add(1, std::memory_order_relaxed);
  if (denied_.size() >= max_denied_remembered) denied_.clear();
  if (!denied_.emplace(key, true).second) return;  // already said
  e.via.clear();  // it went nowhere
  emit_for(std::move(e), key, true);
}

}  // namespace netpen::relay
