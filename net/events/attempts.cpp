// Counting denied attempts (see attempts.hpp).
#include "net/events/attempts.hpp"

#include <algorithm>
#include <cctype>

namespace netpen::events {

bool attempt_counter::add(const event& e) {
  if (e.what != kind::denied) return false;
  if (is_dns_denial(e)) {
    std::string name = asked_name(e);
    std::ranges::transform(name, name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    while (!name.empty() && name.back() == '.') name.pop_back();
    if (!names_.insert(std::move(name)).second) return false;
  }
  ++count_;
  return true;
}

}  // namespace netpen::events
