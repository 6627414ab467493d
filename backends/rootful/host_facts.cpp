// The readers of a rootful run's host facts (see host_facts.hpp).
#include "backends/rootful/host_facts.hpp"

#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

#include "backends/common/sysctl.hpp"
#include "backends/rootful/handover.hpp"
#include "backends/rootful/nft_ruleset.hpp"
#include "backends/rootful/run_state.hpp"

namespace netpen::backends::rootful {
namespace {

std::uint32_t random_seed() {
  std::uint32_t v = 0;
  if (::getrandom(&v, sizeof v, 0) != sizeof v) v = static_cast<std::uint32_t>(::getpid()) * 2654435761u;
  return v;
}

std::uint32_t ipv4_of(const std::vector<std::uint8_t>& raw) {
  std::uint32_t network_order = 0;
  std::memcpy(&network_order, raw.data(), sizeof network_order);
  return ntohl(network_order);
}

// The host's IPv4 addresses (with their prefixes) and routes.
result<std::vector<ipv4_net>> ipv4_in_use(rtnetlink& nl) {
  std::vector<ipv4_net> used;
  auto addresses = list_addresses(nl, AF_INET);
  if (!addresses) return unexpected(addresses.error());
  for (const auto& a : *addresses)
    if (a.local.size() == 4) used.push_back({ipv4_of(a.local), a.prefix});
  auto routes = list_routes(nl, AF_INET);
  if (!routes) return unexpected(routes.error());
  for (const auto& r : *routes)
    if (r.dst.size() == 4 && r.dst_len > 0) used.push_back({ipv4_of(r.dst), r.dst_len});
  return used;
}

result<iface_facts> read_iface_facts(rtnetlink& nl, const std::string& name) {
  iface_facts f;
  if (!valid_interface_name(name)) return f;  // never spliced into a path; the plan refuses it
  f.index = static_cast<int>(::if_nametoindex(name.c_str()));
  if (f.index == 0) return f;
  unsigned flags = 0;
  if (std::ifstream in(fmt::format("/sys/class/net/{}/flags", name)); in >> std::hex >> flags) f.up = (flags & IFF_UP) != 0;
  auto routes = list_default_routes(nl, RT_TABLE_MAIN);
  if (!routes) return unexpected(routes.error());
  f.main_default_routes = std::move(*routes);
  return f;
}

}  // namespace

result<host_facts> read_host_facts(const std::optional<std::string>& iface) {
  auto nl = rtnetlink::open();
  if (!nl) return unexpected(nl.error());
  host_facts f;
  auto used = ipv4_in_use(*nl);
  if (!used) return unexpected(used.error());
  f.ipv4_in_use = std::move(*used);
  f.seed = random_seed();
  if (iface) {
    auto read = read_iface_facts(*nl, *iface);
    if (!read) return unexpected(read.error());
    f.iface = std::move(*read);
  }
  return f;
}

result<uplink_facts> read_uplink_facts(rtnetlink& nl, const std::string& veth, bool ipv6) {
  auto routes = list_default_routes(nl, RT_TABLE_MAIN);
  if (!routes) return unexpected(routes.error());
  uplink_facts out;
  for (const auto& r : *routes) {
    char name[IF_NAMESIZE] = {};
    if (::if_indextoname(static_cast<unsigned>(r.ifindex), name) == nullptr) continue;
    auto& list = r.family == AF_INET6 ? out.v6 : out.v4;
    if (std::find(list.begin(), list.end(), name) == list.end()) list.emplace_back(name);
  }
  if (ipv6)
    out.ipv6_per_interface = sysctl_exists(fmt::format("net/ipv6/conf/{}/force_forwarding", veth));
  return out;
}

result<sysctl_readings> read_sysctls(std::span<const std::string> paths) {
  sysctl_readings out;
  for (const auto& path : paths) {
    auto value = read_sysctl(path);
    if (!value) return unexpected(value.error());
    const bool held = *value == "1" && sysctl_held_by_a_run(default_state_root, path);
    out[path] = sysctl_reading{std::move(*value), held};
  }
  return out;
}

}  // namespace netpen::backends::rootful
