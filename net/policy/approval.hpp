// Asking the user about a destination no rule decides (--interactive): the
// relay holds the flow and asks an approver; the answer comes back once,
// from any thread. The terminal prompt (app/interactive) implements it.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "net/packet/frame.hpp"

namespace netpen::policy {

struct approval_request {
  std::uint8_t protocol = 0;        // packet::proto_tcp, proto_udp, proto_icmp, proto_icmpv6
  packet::ip_address address{};     // the destination
  std::uint16_t port = 0;           // 0 for ICMP
  std::string destination;          // "203.0.113.10:80" ("[v6]:port"; address only for ICMP)
  std::vector<std::string> names;   // names that resolved to it in this run, most recent first
  // The name the flow's first bytes claim (TLS/QUIC SNI, HTTP Host), empty
  // if none; shown in the prompt, and what "allow name" remembers first.
  std::string claimed_name;
  std::string claimed_by;           // where it was read: "TLS SNI", "QUIC SNI", "HTTP Host"; empty if none
  std::string process;              // "pid 4242 (sandbox pid 2): curl -s http://..."; empty if unknown
  int pid = 0;                      // the owner as the host sees it (process_info::pid); 0 if unknown
};

enum class approval {
  allow_once,     // this flow only
  allow_address,  // this address, every port, for the rest of the run
  allow_name,     // claimed_name (else names[0]) and every address it resolves to, for the rest of the run
  deny,           // this address, for the rest of the run
  timeout,        // nobody answered within --prompt-timeout: denied, this flow only
  unasked,        // nobody could be asked (a sandbox's exec without a terminal): denied, this flow only
};

class approver {
 public:
  virtual ~approver() = default;
  // Queues a question; questions are asked one at a time, in order. `done`
  // is called exactly once (also when the approver shuts down: deny), from
  // any thread, never from inside ask().
  virtual void ask(approval_request request, std::function<void(approval)> done) = 0;
};

}  // namespace netpen::policy
