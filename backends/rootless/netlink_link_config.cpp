// The rootless sandbox's link setup (see netlink_link_config.hpp).
#include "backends/rootless/netlink_link_config.hpp"

#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <net/if.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string>

#include "net/common/sandbox_addresses.hpp"

namespace netpen::backends::rootless {

result<void> configure_sandbox_links(int tap_ifindex, default_routes routes) {
  auto nl = rtnetlink::open();
  if (!nl) return unexpected(nl.error());
  const int lo = static_cast<int>(::if_nametoindex("lo"));
  if (lo == 0) return fail("netlink", "the sandbox has no loopback interface");

  std::array<std::uint8_t, 4> v4{}, gw4{};
  std::array<std::uint8_t, 16> v6{}, gw6{};
  const std::string c4(sandbox::child_ipv4), g4(sandbox::gateway_ipv4);
  const std::string c6(sandbox::child_ipv6), g6(sandbox::gateway_ipv6);
  if (::inet_pton(AF_INET, c4.c_str(), v4.data()) != 1 || ::inet_pton(AF_INET, g4.c_str(), gw4.data()) != 1 ||
      ::inet_pton(AF_INET6, c6.c_str(), v6.data()) != 1 || ::inet_pton(AF_INET6, g6.c_str(), gw6.data()) != 1)
    return fail("netlink", "invalid built-in sandbox addresses");

  const mac_address child_mac = sandbox::child_mac;
  const mac_address gw_mac = sandbox::gateway_mac;
  // tap0 is configured while still down, without an IPv6 link-local address
  // (nothing on it needs one: the gateway's neighbour entries are permanent
  // and tap0's IPv6 address skips DAD), so bringing it up starts no DAD,
  // router solicitation or autoconfiguration.
  const link_settings tap_down{.ifindex = tap_ifindex,
                               .up = false,
                               .mtu = sandbox::tap_mtu,
                               .txqlen = sandbox::tap_txqueuelen,
                               .mac = &child_mac,
                               .no_ipv6_link_local = true};
  const auto route = [&](int family, std::span<const std::uint8_t> gw) {
    return [=](char* b, std::uint32_t s) { return build_default_route(b, s, tap_ifindex, family, gw); };
  };
  const auto nothing = rtnetlink::step{"", {}};
  // One batch: in order, so tap0 is up before its addresses, and has its
  // addresses before the routes through them.
  return nl->request_batch({
      {"bringing up lo", [&](char* b, std::uint32_t s) { return build_link_set(b, s, link_settings{.ifindex = lo}); }},
      {"setting tap0 MAC, MTU, txqueuelen and address generation",
       [&](char* b, std::uint32_t s) { return build_link_set(b, s, tap_down); }},
      {"bringing up tap0",
       [&](char* b, std::uint32_t s) { return build_link_set(b, s, link_settings{.ifindex = tap_ifindex}); }},
      {"adding tap0's IPv4 address",
       [&](char* b, std::uint32_t s) {
         return build_addr_add(b, s, tap_ifindex, AF_INET, v4, sandbox::ipv4_prefix, 0);
       }},
      {"adding tap0's IPv6 address",
       [&](char* b, std::uint32_t s) {
         return build_addr_add(b, s, tap_ifindex, AF_INET6, v6, sandbox::ipv6_prefix, IFA_F_NODAD);
       }},
      {"adding the IPv4 gateway neighbour",
       [&](char* b, std::uint32_t s) { return build_neigh_permanent(b, s, tap_ifindex, AF_INET, gw4, gw_mac); }},
      {"adding the IPv6 gateway neighbour",
       [&](char* b, std::uint32_t s) { return build_neigh_permanent(b, s, tap_ifindex, AF_INET6, gw6, gw_mac); }},
      routes.ipv4 ? rtnetlink::step{"adding the IPv4 default route", route(AF_INET, gw4)} : nothing,
      routes.ipv6 ? rtnetlink::step{"adding the IPv6 default route", route(AF_INET6, gw6)} : nothing,
  });
}

}  // namespace netpen::backends::rootless
