// Per-run names and free private subnets (see run_addresses.hpp).
#include "backends/rootful/run_addresses.hpp"

#include <fmt/format.h>

namespace netpen::backends::rootful {
namespace {

constexpr std::uint32_t pool_base = (10u << 24) | (249u << 16);  // 10.249.0.0/16
constexpr std::uint32_t slots = 1u << 14;                        // /30s in the pool

std::uint32_t mask_of(int prefix) { return prefix <= 0 ? 0 : ~0u << (32 - prefix); }

bool overlaps(std::uint32_t net, int prefix, const ipv4_net& other) {
  const int p = std::min(prefix, other.prefix);
  return ((net ^ other.address) & mask_of(p)) == 0;
}

std::string dotted(std::uint32_t a) {
  return fmt::format("{}.{}.{}.{}", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

}  // namespace

std::string make_run_id(std::uint32_t seed) { return fmt::format("{:06x}", seed & 0xffffffu); }

result<run_addresses> plan_addresses(const std::string& id, std::uint32_t seed, std::span<const ipv4_net> in_use) {
  for (std::uint32_t i = 0; i < slots; ++i) {
    const std::uint32_t slot = (seed + i) % slots;
    const std::uint32_t net = pool_base + slot * 4;
    bool taken = false;
    for (const auto& n : in_use) taken = taken || overlaps(net, run_addresses::prefix4, n);
    if (taken) continue;
    run_addresses a;
    a.id = id;
    a.veth = "np" + id;
    a.peer = "np" + id + "c";
    a.gateway4 = dotted(net + 1);
    a.child4 = dotted(net + 2);
    a.gateway6 = fmt::format("fd6e:7065:6e01:{:x}::1", slot);
    a.child6 = fmt::format("fd6e:7065:6e01:{:x}::2", slot);
    return a;
  }
  return fail("no-free-subnet", "every /30 of 10.249.0.0/16 overlaps an address or route of this host");
}

}  // namespace netpen::backends::rootful
