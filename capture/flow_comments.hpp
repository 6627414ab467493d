// What the capture learns from the run's event stream: which process owns
// each of the tree's flows and what the flow's first bytes claimed, as a
// packet comment such as "pid 4242 (sandbox pid 2): curl -s
// https://web.lab.test/; sni=web.lab.test alpn=h2,http/1.1" or "...; GET
// web.lab.test/index.html" (never the query string). Set when the flow
// opens with a known process or claim, updated when its claim is learned
// later (a flow_open-shaped event again: run_outputs::on_claim), dropped
// when it closes; and the Name Resolution Block records a DNS answer
// gives. Every capture point shares one instance.
#pragma once
#include <atomic>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "capture/pcapng.hpp"
#include "net/events/event.hpp"
#include "net/relay/flow_key.hpp"

namespace netpen::capture {

class flow_comments {
 public:
  void on_event(const events::event& e);  // the events strand
  // The comment for a flow as the child sees it (its endpoint as src);
  // empty when neither its process nor its claim is known. Any thread.
  std::string for_flow(const relay::flow_key& child) const;
  // A cheap check before the lookup (no lock).
  bool any() const { return count_.load(std::memory_order_relaxed) > 0; }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<relay::flow_key, std::string, relay::flow_key_hash> comments_;
  std::atomic<std::size_t> count_{0};
};

// The comment for a flow_open event: its process, then its claim, "; "
// between them; empty when neither is known.
std::string comment_for(const events::event& e);

// The NRB records of a dns_answer event: each answered address with the
// queried name. Empty for other events.
std::vector<name_record> name_records(const events::event& e);

}  // namespace netpen::capture
