// A conntrack tuple as the relay names flows: the original direction of a
// tree's connection is its flow_key as the child sees it (src = the child's
// address and port; ICMP echo: the identifier as src_port, dst_port 0).
// Pure: no I/O.
#pragma once
#include "net/netfilter/conntrack_codec.hpp"
#include "net/relay/flow_key.hpp"

namespace netpen::relay {

flow_key flow_key_of(const netfilter::ct_tuple& t);

}  // namespace netpen::relay
