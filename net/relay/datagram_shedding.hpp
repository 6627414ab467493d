// Where datagrams are dropped when the tree sends faster than the relay can
// forward. Pure logic, owned by the engine's dispatch strand.
//
// Theory of operation. The child's kernel hands frames to the tap's ring
// and drops them when the ring is full, without looking at what they are:
// while one flow floods, another flow's SYN is lost as often as the flood's
// datagrams, and that connection waits a second or more for the child's
// retransmission. The relay cannot forward faster, but it can read faster
// than it forwards: reading a frame costs a fraction of sending a datagram
// to the host. So while the tap does not run dry (a round, the frames read
// between two yields of the tap reader, ended with its last batch of reads
// all filled), each datagram flow forwards at most a share of the next
// round's frames and the rest of its datagrams are dropped here, counted.
// The share halves with every further round that finds the tap still full
// (32, 16, ... down to min_share) and the cap is lifted by the first round
// that empties it, so the reader soon empties the ring faster than the tree
// fills it, whatever the relative costs on this machine. The drops fall on
// the flows sending more than their share, never on TCP (not shed at all).
#pragma once
#include <algorithm>
#include <cstdint>

namespace netpen::relay {

// A datagram flow's count in the current round (kept in the flow, touched by
// the dispatch strand only).
struct shed_slot {
  std::uint64_t round = 0;
  unsigned forwarded = 0;
};

class datagram_shedding {
 public:
  static constexpr unsigned full_share = 64;  // a round's frames
  static constexpr unsigned min_share = 4;

  // A reader's round ended; `ran_dry`: the tap was (nearly) empty.
  void end_round(bool ran_dry) {
    ++round_;
    if (ran_dry)
      level_ = 0;
    else if (share() > min_share)
      ++level_;
  }
  bool overloaded() const { return level_ > 0; }
  // What one flow may forward in the current round (overloaded only).
  unsigned share() const { return std::max(min_share, full_share >> level_); }

  // True: forward this datagram of the flow owning `slot`; false: drop it.
  bool admit(shed_slot& slot) {
    if (slot.round != round_) {
      slot.round = round_;
      slot.forwarded = 0;
    }
    if (overloaded() && slot.forwarded >= share()) return false;
    ++slot.forwarded;
    return true;
  }

 private:
  std::uint64_t round_ = 1;  // a new slot (round 0) starts counting in the current round
  unsigned level_ = 0;       // rounds in a row that left the tap full (no more once the share is at its floor)
};

}  // namespace netpen::relay
