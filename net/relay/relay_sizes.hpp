// What the relay holds right now, for the periodic stats line that
// NETPEN_STATS=SECONDS turns on (`netpen: stats: ...` on stderr): the live
// flows and the tables that must come back to their baseline once the
// tree's traffic stops (scripts/soak watches them). The engine, the
// services and the gate fill their parts on their own strands
// (data_path::report_sizes); this file only formats the line and reads the
// interval from the environment variable's text. Pure, no I/O.
#pragma once
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

namespace netpen::relay {

struct relay_sizes {
  // engine (rootless): flows not yet ended, and its tables
  std::size_t live_flows = 0, tcp = 0, udp = 0, icmp = 0, denied_said = 0, inbound_udp = 0;
  // flow_services: owners kept until a flow's last event, DNS names learned,
  // UDP DNS queries out to the upstream
  std::size_t owners = 0, names = 0, dns_in_flight = 0;
  // kernel_gate (rootful): packets waiting for a verdict, flows decided
  // (bounded by gate_table::max_decided), connections waiting for a claim
  std::size_t gate_pending = 0, gate_decided = 0, gate_claiming = 0;
  bool rootful = false;
};

// "flows 3 (tcp 2 udp 1 icmp 0) denied-said 0 inbound-udp 0 owners 3 names 12
// dns-in-flight 0"; under --root the gate's "pending 0 decided 4 claiming 0"
// replaces the engine's part.
std::string to_text(const relay_sizes& s);

// NETPEN_STATS's value: whole seconds, 1 to 3600; nullopt when unset, empty
// or anything else (the line stays off).
std::optional<std::chrono::seconds> stats_interval(const char* text);

}  // namespace netpen::relay
