// Text forms of flow keys and addresses for log lines.
#include "net/relay/flow_key.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

namespace netpen::relay {

std::string to_string(const packet::ip_address& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(a.v6 ? AF_INET6 : AF_INET, a.bytes.data(), buf, sizeof buf);
  return buf;
}

std::string endpoint_text(const packet::ip_address& a, std::uint16_t port) {
  return a.v6 ? fmt::format("[{}]:{}", to_string(a), port) : fmt::format("{}:{}", to_string(a), port);
}

std::string_view protocol_name(const flow_key& k) {
  switch (k.protocol) {
    case packet::proto_tcp: return "tcp";
    case packet::proto_udp: return "udp";
    case packet::proto_icmp: return "icmp";
    case packet::proto_icmpv6: return "icmpv6";
    default: return "ip";
  }
}

std::string to_string(const flow_key& k) {
  const char* proto = k.protocol == packet::proto_tcp ? "tcp" : k.protocol == packet::proto_udp ? "udp" : "ip";
  if (k.dst.v6)
    return fmt::format("{} [{}]:{} -> [{}]:{}", proto, to_string(k.src), k.src_port, to_string(k.dst), k.dst_port);
  return fmt::format("{} {}:{} -> {}:{}", proto, to_string(k.src), k.src_port, to_string(k.dst), k.dst_port);
}

}  // namespace netpen::relay
