// What counts as one attempt to reach something the policy denies (the
// summary's denial counts, --fail-on-leak's count). Pure.
//   - every denied flow (TCP connection, UDP or ping flow) is one attempt;
//   - a name refused in DNS is one attempt however many of its record
//     types were asked (A and AAAA for one curl) and however often: the
//     live lines show each question with its type, the count says how
//     many names leaked attempts, not how chatty the resolver was.
#pragma once
#include <cstdint>
#include <set>
#include <string>

#include "net/events/event.hpp"

namespace netpen::events {

class attempt_counter {
 public:
  // True when `e` (a denied event) is a new attempt; other events: false.
  bool add(const event& e);
  std::uint64_t count() const { return count_; }

 private:
  std::set<std::string> names_;  // DNS names refused so far (lowercase)
  std::uint64_t count_ = 0;
};

}  // namespace netpen::events
