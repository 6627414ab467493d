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
  if (auto r = nl->request("bringing up lo", [&](char* b, std::uint32_t s) {
        return build_link_set(b, s, link_settings{.ifindex = lo});
      });
      !r)
    return r;

  const mac_address child_mac = sandbox::child_mac;
  const link_settings tap{.ifindex = tap_ifindex,
                          .up = true,
                          .mtu = sandbox::tap_mtu,
                          .txqlen = sandbox::tap_txqueuelen,
                          .mac = &child_mac};
  if (auto r = nl->request("setting tap0 MAC, MTU, txqueuelen and up",
                           [&](char* b, std::uint32_t s) { return build_link_set(b, s, tap); });
      !r)
    return r;

  std::array<std::uint8_t, 4> v4{}, gw4{};
  std::array<std::uint8_t, 16> v6{}, gw6{};
  const std::string c4(sandbox::child_ipv4), g4(sandbox::gateway_ipv4);
  const std::string c6(sandbox::child_ipv6), g6(sandbox::gateway_ipv6);
  if (::inet_pton(AF_INET, c4.c_str(), v4.data()) != 1 || ::inet_pton(AF_INET, g4.c_str(), gw4.data()) != 1 ||
      ::inet_pton(AF_INET6, c6.c_str(), v6.data()) != 1 || ::inet_pton(AF_INET6, g6.c_str(), gw6.data()) != 1)
    return fail("netlink", "invalid built-in sandbox addresses");

  const mac_address gw_mac = sandbox::gateway_mac;
  if (auto r = nl->request("adding tap0's IPv4 address", [&](char* b, std::uint32_t s) {
        return build_addr_add(b, s, tap_ifindex, AF_INET, v4, sandbox::ipv4_prefix, 0);
      });
      !r)
    return r;
  if (auto r = nl->request("adding tap0's IPv6 address", [&](char* b, std::uint32_t s) {
        return build_addr_add(b, s, tap_ifindex, AF_INET6, v6, sandbox::ipv6_prefix, IFA_F_NODAD);
      });
      !r)
    return r;
  if (auto r = nl->request("adding the IPv4 gateway neighbour", [&](char* b, std::uint32_t s) {
        return build_neigh_permanent(b, s, tap_ifindex, AF_INET, gw4, gw_mac);
      });
      !r)
    return r;
  if (auto r = nl->request("adding the IPv6 gateway neighbour", [&](char* b, std::uint32_t s) {
        return build_neigh_permanent(b, s, tap_ifindex, AF_INET6, gw6, gw_mac);
      });
      !r)
    return r;
  if (routes.ipv4) {
    if (auto r = nl->request("adding the IPv4 default route", [&](char* b, std::uint32_t s) {
          return build_default_route(b, s, tap_ifindex, AF_INET, gw4);
        });
        !r)
      return r;
  }
  if (!routes.ipv6) return {};
  return nl->request("adding the IPv6 default route", [&](char* b, std::uint32_t s) {
    return build_default_route(b, s, tap_ifindex, AF_INET6, gw6);
  });
}

}  // namespace netpen::backends::rootless
