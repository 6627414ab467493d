// --publish's value syntax (see publish_spec.hpp).
#include "app/cli/publish_spec.hpp"

#include <optional>

#include "app/cli/validators.hpp"

namespace netpen::app::cli {
namespace {

constexpr std::string_view syntax = "[ADDR:][HOST_PORT:]PORT[/udp]";

unexpected<error> not_a_spec(std::string_view flag, std::string_view text, std::string_view why) {
  return bad_value(flag, "'" + std::string(text) + "' is not " + std::string(syntax) + " (" + std::string(why) + ")");
}

// Splits off ADDR: "[v6]:rest" or "v4:a:b" (three fields); nullopt: no ADDR.
struct split_address {
  std::optional<std::string> address;
  bool bracketed = false;
  std::string_view ports;
};

std::optional<split_address> split_off_address(std::string_view text) {
  split_address out;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return std::nullopt;
    out.address = std::string(text.substr(1, close - 1));
    out.bracketed = true;
    out.ports = text.substr(close + 2);
    return out;
  }
  const auto first = text.find(':');
  if (first == std::string_view::npos || text.find(':', first + 1) == std::string_view::npos) {
    out.ports = text;
    return out;
  }
  out.address = std::string(text.substr(0, first));
  out.ports = text.substr(first + 1);
  return out;
}

}  // namespace

result<publish_spec> parse_publish(std::string_view flag, std::string_view text) {
  publish_spec spec;
  std::string_view rest = text;
  if (const auto slash = rest.rfind('/'); slash != std::string_view::npos) {
    const std::string proto = to_lower(rest.substr(slash + 1));
    if (proto != "tcp" && proto != "udp") return not_a_spec(flag, text, "the protocol is tcp or udp");
    spec.udp = proto == "udp";
    rest = rest.substr(0, slash);
  }
  const auto split = split_off_address(rest);
  if (!split) return not_a_spec(flag, text, "an IPv6 ADDR is written [ADDR]");
  if (split->address) {
    const std::string& a = *split->address;
    if (split->bracketed ? !is_ipv6(a) : !is_ipv4(a)) return not_a_spec(flag, text, "ADDR is an IPv4 or [IPv6] address");
    spec.host_address = a;
  }
  const std::string_view ports = split->ports;
  const auto colon = ports.find(':');
  const auto inner = parse_port(colon == std::string_view::npos ? ports : ports.substr(colon + 1));
  std::optional<std::uint16_t> host = inner;
  if (colon != std::string_view::npos && !(split->address && colon == 0)) host = parse_port(ports.substr(0, colon));
  if (colon == std::string_view::npos && split->address) return not_a_spec(flag, text, "ADDR needs HOST_PORT:PORT");
  if (!inner || !host) return not_a_spec(flag, text, "ports 1-65535");
  spec.host_port = *host;
  spec.sandbox_port = *inner;
  return spec;
}

std::string publish_text(const publish_spec& p) {
  const bool v6 = p.host_address.find(':') != std::string::npos;
  const std::string host = v6 ? "[" + p.host_address + "]" : p.host_address;
  return std::string(p.udp ? "udp " : "tcp ") + host + ":" + std::to_string(p.host_port) + " -> sandbox port " +
         std::to_string(p.sandbox_port);
}

}  // namespace netpen::app::cli
