// A conntrack tuple as a flow_key (see ct_flow_key.hpp).
#include "net/relay/ct_flow_key.hpp"

#include <sys/socket.h>

namespace netpen::relay {

flow_key flow_key_of(const netfilter::ct_tuple& t) {
  flow_key k;
  k.protocol = t.proto;
  k.src.v6 = k.dst.v6 = t.family == AF_INET6;
  k.src.bytes = t.src;
  k.dst.bytes = t.dst;
  if (t.proto == packet::proto_icmp || t.proto == packet::proto_icmpv6) {
    k.src_port = t.icmp_id;
  } else {
    k.src_port = t.sport;
    k.dst_port = t.dport;
  }
  return k;
}

}  // namespace netpen::relay
