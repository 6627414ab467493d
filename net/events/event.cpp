// Text form of relay events (see event.hpp).
#include "net/events/event.hpp"

#include <fmt/format.h>

namespace netpen::events {

std::string_view to_string(kind k) {
  switch (k) {
    case kind::proxy_failed: return "proxy failed";
    case kind::denied: return "denied";
  }
  return "event";
}

std::string to_text(const event& e) {
  const std::string where = e.name ? fmt::format("{} ({})", *e.name, e.destination) : e.destination;
  return fmt::format("{}: {} {} -> {}: {}", to_string(e.what), e.protocol, e.source, where, e.reason);
}

}  // namespace netpen::events
