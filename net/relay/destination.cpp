// Destination rules for relayed flows (see destination.hpp).
#include "net/relay/destination.hpp"

#include <arpa/inet.h>

#include <string>

#include "net/common/sandbox_addresses.hpp"

namespace netpen::relay {
namespace {

packet::ip_address parse_literal(std::string_view text, bool v6) {
  packet::ip_address a;
  a.v6 = v6;
  std::string s(text);
  ::inet_pton(v6 ? AF_INET6 : AF_INET, s.c_str(), a.bytes.data());
  return a;
}

const packet::ip_address& gw4() { static const auto a = parse_literal(sandbox::gateway_ipv4, false); return a; }
const packet::ip_address& gw6() { static const auto a = parse_literal(sandbox::gateway_ipv6, true); return a; }
const packet::ip_address& ch4() { static const auto a = parse_literal(sandbox::child_ipv4, false); return a; }
const packet::ip_address& ch6() { static const auto a = parse_literal(sandbox::child_ipv6, true); return a; }

bool unreachable_v4(const packet::ip_address& a) {
  const auto b0 = a.bytes[0];
  if (b0 == 127 || b0 == 0) return true;                   // loopback, "this network"
  if (b0 >= 224) return true;                               // multicast, reserved, broadcast
  return false;
}

bool unreachable_v6(const packet::ip_address& a) {
  static const std::array<std::uint8_t, 16> zero{};
  std::array<std::uint8_t, 16> loop{};
  loop[15] = 1;
  if (a.bytes == zero || a.bytes == loop) return true;      // unspecified, ::1
  if (a.bytes[0] == 0xff) return true;                      // multicast
  bool mapped = true;                                       // ::ffff:0:0/96 (IPv4-mapped)
  for (int i = 0; i < 10; ++i) mapped = mapped && a.bytes[static_cast<std::size_t>(i)] == 0;
  mapped = mapped && a.bytes[10] == 0xff && a.bytes[11] == 0xff;
  return mapped;
}

}  // namespace

bool is_gateway(const packet::ip_address& a) { return a == (a.v6 ? gw6() : gw4()); }
bool is_child(const packet::ip_address& a) { return a == (a.v6 ? ch6() : ch4()); }
packet::ip_address gateway_address(bool v6) { return v6 ? gw6() : gw4(); }
packet::ip_address child_address(bool v6) { return v6 ? ch6() : ch4(); }

destination classify(const packet::ip_address& dst, std::uint16_t dst_port) {
  return classify(dst, dst_port, false, nullptr);
}

destination classify(const packet::ip_address& dst, std::uint16_t dst_port, bool udp,
                     const host_port_set* host_ports) {
  if (dst_port == 53) return {destination_kind::dns_forwarder, {}};
  if (is_gateway(dst) && host_ports != nullptr && host_ports->contains(udp, dst_port))
    return {destination_kind::host_port, {}};
  if (is_gateway(dst)) return {destination_kind::forbidden, "gateway-port-closed"};
  if (dst_port == 0) return {destination_kind::forbidden, "port-zero"};
  if (dst.v6 ? unreachable_v6(dst) : unreachable_v4(dst)) return {destination_kind::forbidden, "unroutable-address"};
  if (is_child(dst)) return {destination_kind::forbidden, "unroutable-address"};
  return {destination_kind::relay, {}};
}

}  // namespace netpen::relay
