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

std::string to_string(const flow_key& k) {
  const char* proto = k.protocol == packet::proto_tcp ? "tcp" : k.protocol == packet::proto_udp ? "udp" : "ip";
  if (k.dst.v6)
    return fmt::format("{} [{}]:{} -> [{}]:{}", proto, to_string(k.src), k.src_port, to_string(k.dst), k.dst_port);
  return fmt::format("{} {}:{} -> {}:{}", proto, to_string(k.src), k.src_port, to_string(k.dst), k.dst_port);
}

}  // namespace netpen::relay
