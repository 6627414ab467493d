// Text forms of flow keys for log lines.
#include "net/relay/flow_key.hpp"

#include <fmt/format.h>

namespace netpen::relay {

std::string_view protocol_name(const flow_key& k) { return packet::protocol_name(k.protocol); }

std::string to_string(const flow_key& k) {
  const char* proto = k.protocol == packet::proto_tcp ? "tcp" : k.protocol == packet::proto_udp ? "udp" : "ip";
  if (k.dst.v6)
    return fmt::format("{} [{}]:{} -> [{}]:{}", proto, to_string(k.src), k.src_port, to_string(k.dst), k.dst_port);
  return fmt::format("{} {}:{} -> {}:{}", proto, to_string(k.src), k.src_port, to_string(k.dst), k.dst_port);
}

}  // namespace netpen::relay
