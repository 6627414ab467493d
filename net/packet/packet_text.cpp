// Text forms of addresses and protocol numbers (see packet_text.hpp).
#include "net/packet/packet_text.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

namespace netpen::packet {

std::string to_string(const ip_address& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(a.v6 ? AF_INET6 : AF_INET, a.bytes.data(), buf, sizeof buf);
  return buf;
}

std::string endpoint_text(const ip_address& a, std::uint16_t port) {
  return a.v6 ? fmt::format("[{}]:{}", to_string(a), port) : fmt::format("{}:{}", to_string(a), port);
}

std::string_view protocol_name(std::uint8_t protocol) {
  switch (protocol) {
    case proto_tcp: return "tcp";
    case proto_udp: return "udp";
    case proto_icmp: return "icmp";
    case proto_icmpv6: return "icmpv6";
    default: return "ip";
  }
}

}  // namespace netpen::packet
