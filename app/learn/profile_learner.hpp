// Learn, then enforce (docs/profiles.md): from a run's events (live, for
// --learn, or parsed back from a flow log, for `report --format profile`)
// to a TOML profile that `--profile PATH` loads, allowing exactly what the
// run reached: default deny, and an allow-list of the names it reached with
// their ports ("web.example:443"; ICMP without a port), an address only for
// a flow no name was seen for, and names the tree resolved without
// connecting (so the same lookups answer again). Each entry has a comment
// line: how many flows, which protocols, which process(es). DNS itself
// needs no entry: the tree's questions go to netpen's forwarder, which
// answers those of allowed names. Outbound flows only (not inbound ones of
// --publish, not --host-port's, not refused ones; those are listed as
// comments). Pure.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "net/events/event.hpp"
#include "net/events/run_info.hpp"

namespace netpen::app::learn {

class profile_learner {
 public:
  void add(const events::event& e);
  // The profile; `info` (the run_start) for its header comments.
  std::string render(const std::optional<events::run_info>& info) const;

 private:
  struct use {
    std::uint64_t flows = 0;
    std::set<std::string> protocols;
    std::set<std::string> processes;
  };
  struct open_flow {
    events::event open;
    std::uint64_t seq = 0;  // order of the opens
  };
  void count(const events::event& e);
  use& entry(const std::string& text);

  std::map<std::string, open_flow> open_;  // protocol + src + dst -> its flow_open, until closed
  std::uint64_t opens_ = 0;
  std::set<std::string> refused_;          // flows refused (their close is not a use either)
  std::vector<std::string> order_;         // entries in the order first seen
  std::map<std::string, use> entries_;
  std::vector<std::string> resolved_;      // names with an answer, in order
  std::vector<std::string> denied_;        // "what (policy)" of denied events, once each
};

}  // namespace netpen::app::learn
