// The --host-port set (see host_port_set.hpp).
#include "net/relay/host_port_set.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace netpen::relay {

host_port_set::host_port_set(std::vector<host_port> ports) : ports_(std::move(ports)) {
  std::erase_if(ports_, [](const host_port& p) { return p.port == 0; });
  std::ranges::sort(ports_);
  const auto [first, last] = std::ranges::unique(ports_);
  ports_.erase(first, last);
}

bool host_port_set::contains(bool udp, std::uint16_t port) const {
  return std::ranges::binary_search(ports_, host_port{udp, port});
}

std::vector<std::uint16_t> host_port_set::of(bool udp) const {
  std::vector<std::uint16_t> out;
  for (const auto& p : ports_)
    if (p.udp == udp) out.push_back(p.port);
  return out;
}

host_port_set host_port_set::at_gateway() const {
  host_port_set out = *this;
  std::erase_if(out.ports_, [](const host_port& p) { return p.port == 53; });
  return out;
}

namespace {

// "80, 9000-9010": consecutive ports folded into ranges.
std::string ranges_text(const std::vector<std::uint16_t>& ports) {
  std::string out;
  for (std::size_t i = 0; i < ports.size();) {
    std::size_t j = i;
    while (j + 1 < ports.size() && ports[j + 1] == ports[j] + 1) ++j;
    out += out.empty() ? "" : ", ";
    out += j == i ? fmt::format("{}", ports[i]) : fmt::format("{}-{}", ports[i], ports[j]);
    i = j + 1;
  }
  return out;
}

}  // namespace

std::string to_text(const host_port_set& set) {
  std::string out;
  for (const bool udp : {false, true}) {
    const auto ports = set.of(udp);
    if (ports.empty()) continue;
    out += out.empty() ? "" : "; ";
    out += (udp ? "udp " : "tcp ") + ranges_text(ports);
  }
  return out.empty() ? "none" : out;
}

}  // namespace netpen::relay
