// The run summary (--summary, `netpen report`): what the run was, its traffic
// by protocol, DNS, the top destinations, the names flows claimed (TLS/QUIC
// SNI, HTTP Host) by bytes, denials (with the policy code and
// rule), proxy failures, errors, warnings, and the exit status.
// summary_builder folds a run's event stream into a summary; render_* print
// it as text (exit status on the last line), JSON or Markdown. Pure: no I/O.
// Not thread-safe: feed it from one thread.
#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "net/events/attempts.hpp"
#include "net/events/event.hpp"
#include "net/events/run_info.hpp"

namespace netpen::events {

struct protocol_total {
  std::string protocol;  // "tcp", "udp", "icmp", ...
  std::uint64_t flows = 0;
  std::uint64_t bytes_out = 0;  // from the tree
  std::uint64_t bytes_in = 0;   // to the tree
};

struct destination_total {
  std::string host;     // the DNS name when the tree looked it up, else the address
  std::string address;  // the address (first seen), without brackets or port
  std::optional<std::uint16_t> port;  // none for ICMP
  std::string protocol;
  // A published port's server (--publish): the flows came from the host to
  // it (event direction "inbound"); counted apart from the tree's own flows
  // to the same address.
  bool inbound = false;
  std::uint64_t flows = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t bytes_in = 0;
};

// A name the tree's flows claimed in their first bytes (TLS or QUIC SNI,
// HTTP Host), whether or not the tree looked it up in DNS.
struct name_total {
  std::string name;
  std::vector<std::string> seen;  // how: "sni" (TLS), "quic" (QUIC SNI), "host" (HTTP Host), in that order
  std::uint64_t flows = 0;
  std::uint64_t bytes_out = 0;
  std::uint64_t bytes_in = 0;
};

// Events of one kind with the same protocol, destination, reason, via,
// policy, rule and claimed name.
struct event_group {
  std::string protocol;
  std::string destination;  // "name:port" when the name is known, else the address as logged;
                            // the name asked for a denied DNS query
  std::string reason;
  std::string via;          // proxy failures only
  std::string policy;       // denials only: the policy reason code ("deny-rule"), empty without one
  std::string rule;         // ... and the rule that matched, with its origin
  std::string claimed;      // denials only: the name the refused flow claimed (SNI, HTTP Host), if any
  std::uint64_t count = 0;
};

struct dns_failure {
  std::string query;
  std::string query_type;
  std::string rcode;
  std::uint64_t count = 0;
};

struct summary {
  // From run_info; empty/absent when the log had no run_start.
  std::string netpen_version;
  std::string backend;
  std::string command;
  std::vector<std::string> controls;
  std::optional<std::string> capture;
  // From run_end; absent when the run did not finish.
  std::optional<std::chrono::milliseconds> duration;
  std::optional<int> exit_status;

  std::uint64_t events = 0;
  std::vector<protocol_total> protocols;             // by protocol name
  std::uint64_t dns_queries = 0;
  std::uint64_t dns_answers = 0;
  std::uint64_t dns_failed = 0;                      // answers with an rcode other than NOERROR
  std::vector<dns_failure> dns_failures;             // most frequent first
  std::vector<destination_total> top_destinations;   // at most 10, most bytes (out + in) first
  std::uint64_t destinations = 0;                    // how many distinct destinations in all
  std::vector<name_total> top_names;                 // claimed names: at most 10, most bytes (out + in) first
  std::uint64_t names = 0;                           // how many distinct claimed names in all
  std::vector<event_group> denials;                  // most frequent first, then first seen
  std::vector<event_group> proxy_failures;
  std::vector<event_group> errors;
  std::vector<event_group> warnings;
};

inline constexpr std::size_t top_destination_count = 10;
inline constexpr std::size_t top_name_count = 10;

// The name an event's flow claimed (sni, else http_host; empty if none) and
// how it was seen: "sni", "quic" (SNI of a UDP flow) or "host".
std::string claimed_name(const event& e);
std::string_view claim_seen(const event& e);

class summary_builder {
 public:
  void start(const run_info& info);
  void add(const event& e);
  void finish(const run_end& end);
  summary result() const;

 private:
  using flow_id = std::tuple<std::string, std::string, std::string>;  // protocol, source, destination
  using destination_id = std::tuple<std::string, std::string, std::string, bool>;  // host, port, protocol, inbound
  struct open_flow {
    std::size_t count = 0;  // opens not yet matched by a close
    std::optional<std::string> name;
    std::string claimed;    // the name its open claimed, already counted for it
    std::string seen;
  };
  struct grouped {
    std::vector<event_group> groups;  // first-seen order
    std::map<std::tuple<std::string, std::string, std::string, std::string, std::string, std::string, std::string>,
             std::size_t>
        index;
    void add(event_group g);
  };

  destination_total& destination_for(const event& e, const std::optional<std::string>& name);
  void count_flow(const event& e, const std::optional<std::string>& name);
  name_total& name_for(const std::string& name, std::string_view seen);
  void count_claim_at_close(const event& e, const open_flow* open);

  summary s_;
  std::map<std::string, protocol_total> protocols_;
  std::map<flow_id, open_flow> open_;
  std::map<destination_id, destination_total> destinations_;
  std::map<std::string, name_total> names_;
  std::map<std::tuple<std::string, std::string, std::string>, std::size_t> dns_failure_index_;
  grouped denials_, proxy_failures_, errors_, warnings_;
  attempt_counter attempts_;
};

// The DNS totals as every render for people says them: "3 queries, 3
// answers, 1 failed", or "no queries".
std::string dns_totals_text(const summary& s);

// Text for people: aligned sections, empty sections left out, and
// "exit status: N" (or "exit status: unknown ...") as the last line. The
// destinations table has a "direction" column ("inbound" / "outbound") when
// any row is inbound (as the Markdown form; JSON rows always say it).
std::string render_text(const summary& s);
// One JSON object (pretty-printed), every list complete.
std::string render_json(const summary& s);
// GitHub-flavoured Markdown: a list and tables; exit status last.
std::string render_markdown(const summary& s);
// Every render ends with a newline.

}  // namespace netpen::events
