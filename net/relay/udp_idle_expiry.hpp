// When a relayed datagram flow (UDP, ping) expires and which flow to evict
// when the table is full. Pure logic (time passed in), shared by the engine
// and its tests.
//
// A flow that never got a reply is a one-shot exchange (a query, a probe):
// it expires after `unreplied` of silence. Once the far end has answered it
// is a conversation (QUIC, media, games) and gets `replied` of idle time.
// When the table is full the flow idle the longest makes room.
#pragma once
#include <chrono>
#include <cstddef>
#include <optional>

namespace netpen::relay {

struct udp_idle_expiry {
  using clock = std::chrono::steady_clock;
  std::chrono::seconds unreplied{30};
  std::chrono::seconds replied{180};
  std::size_t max_flows = 4096;

  clock::time_point expiry(clock::time_point last_activity, bool got_reply) const {
    return last_activity + (got_reply ? replied : unreplied);
  }
  bool expired(clock::time_point now, clock::time_point last_activity, bool got_reply) const {
    return now >= expiry(last_activity, got_reply);
  }
};

// Index of the entry idle the longest (smallest last activity) among `n`
// entries read through `last_activity(i)`; nullopt when n == 0.
template <class LastActivity>
std::optional<std::size_t> oldest_idle(std::size_t n, LastActivity last_activity) {
  if (n == 0) return std::nullopt;
  std::size_t best = 0;
  auto best_t = last_activity(0);
  for (std::size_t i = 1; i < n; ++i) {
    const auto t = last_activity(i);
    if (t < best_t) {
      best = i;
      best_t = t;
    }
  }
  return best;
}

}  // namespace netpen::relay
