// The stats line's text and interval (see relay_sizes.hpp).
#include "net/relay/relay_sizes.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstring>

namespace netpen::relay {

std::string to_text(const relay_sizes& s) {
  std::string text;
  if (s.rootful)
    text = fmt::format("gate pending {} decided {} claiming {}", s.gate_pending, s.gate_decided, s.gate_claiming);
  else
    text = fmt::format("flows {} (tcp {} udp {} icmp {}) denied-said {} inbound-udp {}", s.live_flows, s.tcp, s.udp,
                       s.icmp, s.denied_said, s.inbound_udp);
  return text + fmt::format(" owners {} names {} dns-in-flight {}", s.owners, s.names, s.dns_in_flight);
}

std::optional<std::chrono::seconds> stats_interval(const char* text) {
  if (text == nullptr || *text == '\0') return std::nullopt;
  const char* end = text + std::strlen(text);
  unsigned value = 0;
  const auto [ptr, ec] = std::from_chars(text, end, value);
  if (ec != std::errc() || ptr != end || value < 1 || value > 3600) return std::nullopt;
  return std::chrono::seconds(value);
}

}  // namespace netpen::relay
