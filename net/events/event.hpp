// The one event model: everything that happened to the tree's traffic that
// someone may want to see. The relay and the DNS forwarder raise events; one
// stream fans them out to the live lines (--analyse), the JSON Lines log
// (--log), the run summary (--summary) and the pcapng comments. An event
// never carries a proxy password. Field meanings are documented for users
// in docs/flow-log.md (the JSON form).
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netpen::events {

enum class kind {
  dns_query,     // the tree asked netpen's DNS forwarder something
  dns_answer,    // ... and got this answer
  flow_open,     // a TCP connection, UDP flow or ping flow started (or was refused)
  flow_close,    // ... and ended: bytes each way, duration, how it ended
  denied,        // traffic that was not allowed to leave (policy, --proxy-only), or a refused DNS query
  proxy_failed,  // the proxy handshake for a TCP flow failed: RST to the child
  error,         // a runtime failure worth telling (cannot write the capture, ...)
  warning,       // worth knowing, not a failure (the tree uses DNS over HTTPS, which bypasses name policy)
};

// The process in the tree that owned the flow's socket.
struct process_info {
  int pid = 0;           // as the host sees it
  int sandbox_pid = 0;   // as the tree sees it (its own pid namespace), 0 if unknown
  std::string command;   // command line, arguments joined by spaces (truncated)
};

struct event {
  kind what = kind::error;
  std::chrono::system_clock::time_point time = std::chrono::system_clock::now();
  std::string protocol;             // "tcp", "udp", "icmp", "icmpv6", "dns"
  std::string source;               // "10.248.0.2:40000" ("[v6]:port"); address only for ICMP
  std::string destination;          // "203.0.113.10:80"
  std::optional<std::string> name;  // the destination's DNS name, when the tree looked it up
  std::string reason;               // a sentence for people (denied, proxy_failed, error, warning, refused opens)
  std::string policy;               // denied, flow_open: the policy decision's reason code ("deny-rule",
                                    // "not-allowed", ...; docs/flow-log.md), empty when no policy decided
  std::string rule;                 // ... and the rule that matched, with its origin:
                                    // "*.example.com:443 (--allow)", "10.0.0.0/8 (allow.txt:3)"; empty when none
  std::string via;                  // flows: "direct", or the proxy (redacted)
  std::string direction;            // flows: "inbound" for a published port's flow (source: the host
                                    // client, destination: the server in the sandbox); empty: outbound
  // What the flow's own first bytes claimed (flow_open when known by then,
  // flow_close, denied): TLS/QUIC SNI and ALPN, HTTP/1.x method, Host and
  // path (never the query string). Empty when not seen.
  std::string sni;
  std::vector<std::string> alpn;
  std::string http_method, http_host, http_path;

  // flow_close
  std::uint64_t bytes_out = 0;      // from the tree
  std::uint64_t bytes_in = 0;       // to the tree
  std::chrono::milliseconds duration{0};
  std::string end;                  // "closed", "reset", "refused", "timeout", "unreachable", "shutdown"

  // dns_query / dns_answer
  std::string query;                // the name asked (also on a denied DNS query)
  std::string query_type;           // "A", "AAAA", "TXT", "TYPE65", ...
  std::string rcode;                // answers: "NOERROR", "NXDOMAIN", "SERVFAIL", ...
  std::vector<std::string> answers; // answers: addresses and CNAME targets, in order
  std::string transport;            // "udp" or "tcp"

  std::optional<process_info> process;
};

using sink = std::function<void(const event&)>;

std::string_view to_string(kind k);
// "pid 4242 (sandbox pid 2): curl -s https://example.com" (capture comments, prompts).
std::string to_text(const process_info& p);
// One line for people, no timestamp, no colour:
// "proxy failed: tcp 10.248.0.2:40000 -> web.lab.test (203.0.113.10:80): proxy answered 403 Forbidden"
// "denied: dns evil.com A: the name is denied [deny-rule *.evil.com (--deny)]"
std::string to_text(const event& e);

// The policy decision compactly: "deny-rule *.evil.com (--deny)",
// "not-allowed"; empty when the event has no policy code.
std::string policy_text(const event& e);
// True for a denied DNS query (protocol "dns"): it names a query, not a flow.
bool is_dns_denial(const event& e);
// The name a DNS event asked about: `query`, else `name`.
std::string asked_name(const event& e);
// ... with the query type when known: "evil.com A".
std::string asked_text(const event& e);

}  // namespace netpen::events
