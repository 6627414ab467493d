// The rootful gate's bookkeeping, pure (no I/O, no clock): for each flow of
// the tree the gate has seen, where it stands.
//
//   new packet, unknown flow   -> judge (the flow becomes pending; its
//                                 packet ids wait for the verdict)
//   packet of a pending flow   -> wait (its id joins the others)
//   packet of a decided flow   -> accept or reject at once, as decided
//   decide(allow)              -> the waiting ids, answered together; the
//                                 verdict is remembered until the flow ends
//   opened(record)             -> an allowed flow's flow_open was published:
//                                 its record waits for the flow's end
//   await_claim(record)        -> (claim mode, TCP) the SYN was let go but
//                                 the verdict waits for the name the flow's
//                                 first bytes claim: its record is pending,
//                                 no flow_open yet
//   claim_settled(allow)       -> that verdict: the pending record comes
//                                 back (to be opened when allowed)
//   finished(when)             -> (conntrack saw the TCP connection end:
//                                 both FINs, or a reset) its open record
//                                 keeps `when` as its end, for the
//                                 flow_close that the entry's destruction
//                                 (or the run's end) brings later
//   ended                      -> (conntrack says the flow is gone) the
//                                 verdict is forgotten; the record, if any,
//                                 goes back for flow_close
//   claimed(claim)             -> what the flow's first bytes claimed goes
//                                 into its record (kept until it opens when
//                                 it is not open yet)
// Plus the small decisions around it: how a flow ended from its last
// conntrack entry, and which verdicts may be cached in the tree's table.
#pragma once
#include <cstddef>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "net/netfilter/conntrack_codec.hpp"
#include "net/relay/flow_key.hpp"
#include "net/relay/flow_record.hpp"

namespace netpen::relay {

class gate_table {
 public:
  enum class action { accept, reject, wait, judge };
  // Remembered verdicts beyond this are all forgotten at once (a flow then
  // asks again); conntrack normally ends them long before.
  static constexpr std::size_t max_decided = 65536;

  // A queued packet of `key` with the queue's packet id `id`.
  action on_packet(const flow_key& key, std::uint32_t id);
  // The verdict on `key`: the packet ids that waited for it.
  std::vector<std::uint32_t> decide(const flow_key& key, bool allow);
  // An allowed flow's open was published: its record is kept until it ends.
  flow_record& opened(const flow_key& key, flow_record record);
  // Claim mode: `key`'s SYN was accepted (decide(key, true) came first) and
  // its verdict waits for the claimed name; `record` is pending until then.
  void await_claim(const flow_key& key, flow_record record);
  bool awaiting_claim(const flow_key& key) const { return claiming_.contains(key); }
  // The claimed name's verdict: the pending record (nullopt if the flow was
  // not waiting: it ended meanwhile, or the gate never saw it); the verdict
  // is remembered for the flow's further packets.
  std::optional<flow_record> claim_settled(const flow_key& key, bool allow);
  // The remembered verdict on `key`, if any.
  std::optional<bool> verdict_of(const flow_key& key) const;
  // Conntrack says `key`'s connection is over (tcp_connection_over) at
  // `when`: its open record remembers the first such moment as its end.
  void finished(const flow_key& key, std::chrono::steady_clock::time_point when);
  // Conntrack says the flow is gone: its record, if its open was published
  // (a record still waiting for its claim is forgotten).
  std::optional<flow_record> ended(const flow_key& key);
  // What the flow's first bytes claimed (first_bytes.hpp): into its record
  // (returned, for a claim event), or, before its open is published, kept
  // for it (at most max_decided; nullptr then).
  flow_record* claimed(const flow_key& key, sniff::claim claim);
  // The run ends: every record still open (the table forgets them).
  std::vector<std::pair<flow_key, flow_record>> take_open();
  bool any_open() const { return !open_.empty(); }
  std::size_t pending() const { return pending_.size(); }
  std::size_t decided() const { return decided_.size(); }
  std::size_t claiming() const { return claiming_.size(); }

 private:
  std::unordered_map<flow_key, std::vector<std::uint32_t>, flow_key_hash> pending_;
  std::unordered_map<flow_key, bool, flow_key_hash> decided_;  // allowed?
  std::unordered_map<flow_key, flow_record, flow_key_hash> open_;
  std::unordered_map<flow_key, sniff::claim, flow_key_hash> early_claims_;  // claimed before opened
  std::unordered_map<flow_key, flow_record, flow_key_hash> claiming_;  // SYN let go, verdict by claim pending
};

// How a flow ended, from its last conntrack entry: "unreachable" (TCP never
// answered), "refused" or "reset" (TCP closed by a reset before or after it
// was assured), "closed", or "expired" (UDP, ping).
std::string_view end_of(const netfilter::conntrack_entry& e);
// The end of a flow still tracked when the run ends: "shutdown", unless its
// TCP connection had already closed (LAST_ACK, TIME_WAIT, CLOSE) or was
// never answered.
std::string_view end_at_shutdown(const netfilter::conntrack_entry& e);
// Whether a TCP entry (an update event) says the connection is over: both
// FINs seen (LAST_ACK, TIME_WAIT) or reset (CLOSE). Conntrack keeps such an
// entry a while longer (TIME_WAIT lasts a second in the tree's netns); its
// destruction is not the connection's end.
bool tcp_connection_over(const netfilter::conntrack_entry& e);

// Whether an allowed verdict may go into the tree's table as a cache entry
// (new flows to that destination then skip the queue): only when nothing
// watches single flows (`observed`), no proxy holds each SYN for its tunnel
// and no flow's verdict waits for its claimed name (`proxied`: the host
// table TPROXYs the tree's TCP), the flow is TCP or UDP, and the verdict cannot change during the run (no
// policy, the default, or an address rule, and no deny rule by name that a
// name learned later could bring in).
bool verdict_cacheable(const flow_key& key, std::string_view reason, bool observed, bool proxied,
                       bool verdicts_can_change);

}  // namespace netpen::relay
