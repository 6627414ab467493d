// What a relayed flow keeps for its events: when it opened, the bytes each
// way (payload only), where it went (direct or the proxy) and how it ended.
// Owned and updated by the flow on its strand; read by the engine when the
// flow reports its close.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "net/sniff/claim.hpp"

namespace netpen::relay {

struct flow_record {
  std::string policy, rule;  // the policy decision that let it through, when known
  std::chrono::steady_clock::time_point opened = std::chrono::steady_clock::now();
  // When the flow really ended (a TCP connection's last FIN), when known
  // before its close is reported; flow_close takes its duration and time
  // from it (else from the moment it is reported).
  std::optional<std::chrono::steady_clock::time_point> ended;
  std::uint64_t bytes_out = 0;   // from the child
  std::uint64_t bytes_in = 0;    // to the child
  std::string via = "direct";
  std::string_view end = "closed";  // "closed", "reset", "refused", "unreachable", "timeout", "expired", "shutdown"
  bool announced = false;        // flow_open published: a close follows
  // The destination's name as flow_open showed it (none for a literal
  // address no lookup produced): flow_close shows the same, even if the
  // tree looks a name up for that address meanwhile.
  std::optional<std::string> name;
  // --publish: an inbound flow from this host client ("127.0.0.1:40000");
  // empty for the tree's own (outbound) flows.
  std::string inbound_client;
  // What the flow's first bytes claimed (SNI, ALPN, HTTP method/Host/path);
  // protocol none until (unless) the sniffer recognised something.
  sniff::claim claim;
};

}  // namespace netpen::relay
