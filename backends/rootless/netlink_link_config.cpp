// rtnetlink requests via libmnl (see netlink_link_config.hpp).
#include "backends/rootless/netlink_link_config.hpp"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "net/common/sandbox_addresses.hpp"

namespace netpen::backends::rootless {
namespace {

const auto nl_buffer_size = static_cast<std::size_t>(MNL_SOCKET_BUFFER_SIZE);

nlmsghdr* start(char* buf, std::uint16_t type, std::uint16_t flags, std::uint32_t seq) {
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | NLM_F_ACK | flags);
  nlh->nlmsg_seq = seq;
  return nlh;
}

template <class T>
T* put_header(nlmsghdr* nlh) {
  return static_cast<T*>(mnl_nlmsg_put_extra_header(nlh, sizeof(T)));
}

std::uint8_t u8(int v) { return static_cast<std::uint8_t>(v); }

}  // namespace

nlmsghdr* build_link_set(char* buf, std::uint32_t seq, const link_settings& s) {
  nlmsghdr* nlh = start(buf, RTM_NEWLINK, 0, seq);
  auto* ifm = put_header<ifinfomsg>(nlh);
  ifm->ifi_family = AF_UNSPEC;
  ifm->ifi_index = s.ifindex;
  ifm->ifi_change = IFF_UP;
  ifm->ifi_flags = s.up ? static_cast<unsigned>(IFF_UP) : 0U;
  if (s.mac != nullptr) mnl_attr_put(nlh, IFLA_ADDRESS, s.mac->size(), s.mac->data());
  if (s.mtu > 0) mnl_attr_put_u32(nlh, IFLA_MTU, static_cast<std::uint32_t>(s.mtu));
  if (s.txqlen > 0) mnl_attr_put_u32(nlh, IFLA_TXQLEN, static_cast<std::uint32_t>(s.txqlen));
  return nlh;
}

nlmsghdr* build_addr_add(char* buf, std::uint32_t seq, int ifindex, int family, std::span<const std::uint8_t> addr,
                         int prefix, std::uint32_t flags) {
  nlmsghdr* nlh = start(buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, seq);
  auto* ifa = put_header<ifaddrmsg>(nlh);
  ifa->ifa_family = u8(family);
  ifa->ifa_prefixlen = u8(prefix);
  ifa->ifa_flags = static_cast<std::uint8_t>(flags & 0xffU);
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = static_cast<std::uint32_t>(ifindex);
  const auto len = static_cast<std::size_t>(addr.size());
  mnl_attr_put(nlh, IFA_LOCAL, len, addr.data());
  mnl_attr_put(nlh, IFA_ADDRESS, len, addr.data());
  if (flags != 0) mnl_attr_put_u32(nlh, IFA_FLAGS, flags);
  return nlh;
}

nlmsghdr* build_default_route(char* buf, std::uint32_t seq, int ifindex, int family,
                              std::span<const std::uint8_t> gateway) {
  nlmsghdr* nlh = start(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, seq);
  auto* rtm = put_header<rtmsg>(nlh);
  rtm->rtm_family = u8(family);
  rtm->rtm_dst_len = 0;
  rtm->rtm_table = RT_TABLE_MAIN;
  rtm->rtm_protocol = RTPROT_BOOT;
  rtm->rtm_scope = RT_SCOPE_UNIVERSE;
  rtm->rtm_type = RTN_UNICAST;
  mnl_attr_put(nlh, RTA_GATEWAY, gateway.size(), gateway.data());
  mnl_attr_put_u32(nlh, RTA_OIF, static_cast<std::uint32_t>(ifindex));
  return nlh;
}

nlmsghdr* build_neigh_permanent(char* buf, std::uint32_t seq, int ifindex, int family,
                                std::span<const std::uint8_t> dst, const mac_address& mac) {
  nlmsghdr* nlh = start(buf, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, seq);
  auto* ndm = put_header<ndmsg>(nlh);
  ndm->ndm_family = u8(family);
  ndm->ndm_ifindex = ifindex;
  ndm->ndm_state = NUD_PERMANENT;
  ndm->ndm_type = RTN_UNICAST;
  mnl_attr_put(nlh, NDA_DST, dst.size(), dst.data());
  mnl_attr_put(nlh, NDA_LLADDR, mac.size(), mac.data());
  return nlh;
}

rtnetlink::rtnetlink(mnl_socket* s) : sock_(s), port_(mnl_socket_get_portid(s)), buffer_(nl_buffer_size) {}

rtnetlink::rtnetlink(rtnetlink&& o) noexcept
    : sock_(std::exchange(o.sock_, nullptr)), port_(o.port_), seq_(o.seq_), buffer_(std::move(o.buffer_)) {}

rtnetlink::~rtnetlink() {
  if (sock_ != nullptr) mnl_socket_close(sock_);
}

result<rtnetlink> rtnetlink::open() {
  mnl_socket* s = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (s == nullptr) return fail("netlink", fmt::format("cannot open an rtnetlink socket: {}", std::strerror(errno)));
  if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0) {
    const int e = errno;
    mnl_socket_close(s);
    return fail("netlink", fmt::format("cannot bind an rtnetlink socket: {}", std::strerror(e)));
  }
  return rtnetlink(s);
}

result<void> rtnetlink::transact(const char* what, nlmsghdr* nlh) {
  const std::uint32_t seq = nlh->nlmsg_seq;
  if (mnl_socket_sendto(sock_, nlh, nlh->nlmsg_len) < 0)
    return fail("netlink", fmt::format("{}: sending the request failed: {}", what, std::strerror(errno)));
  std::vector<char> rx(nl_buffer_size);
  for (;;) {
    const ssize_t n = mnl_socket_recvfrom(sock_, rx.data(), rx.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("netlink", fmt::format("{}: reading the answer failed: {}", what, std::strerror(errno)));
    }
    const int r = mnl_cb_run(rx.data(), static_cast<std::size_t>(n), seq, port_, nullptr, nullptr);
    if (r == MNL_CB_ERROR)
      return fail("netlink", fmt::format("{}: the kernel refused: {}", what, std::strerror(errno)));
    if (r == MNL_CB_STOP) return {};
    // MNL_CB_OK without the ACK yet: keep reading.
  }
}

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
