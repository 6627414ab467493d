// rtnetlink configuration of the sandbox's links through libmnl (never by
// running `ip`): link up/MTU/txqueuelen/MAC, addresses, default routes and
// permanent neighbour entries. Message building is separate from sending so
// the messages can be checked in unit tests.
#pragma once
#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "net/common/error.hpp"

struct nlmsghdr;
struct mnl_socket;

namespace netpen::backends::rootless {

using mac_address = std::array<std::uint8_t, 6>;

struct link_settings {
  int ifindex = 0;
  bool up = true;
  int mtu = 0;       // 0: unchanged
  int txqlen = 0;    // 0: unchanged
  const mac_address* mac = nullptr;
};

// Builders: write one request into buf (at least MNL_SOCKET_BUFFER_SIZE
// bytes) and return it. `addr` is 4 bytes for AF_INET, 16 for AF_INET6.
nlmsghdr* build_link_set(char* buf, std::uint32_t seq, const link_settings& s);
nlmsghdr* build_addr_add(char* buf, std::uint32_t seq, int ifindex, int family,
                         std::span<const std::uint8_t> addr, int prefix, std::uint32_t flags);
nlmsghdr* build_default_route(char* buf, std::uint32_t seq, int ifindex, int family,
                              std::span<const std::uint8_t> gateway);
nlmsghdr* build_neigh_permanent(char* buf, std::uint32_t seq, int ifindex, int family,
                                std::span<const std::uint8_t> dst, const mac_address& mac);

// One NETLINK_ROUTE socket; each request waits for its ACK.
class rtnetlink {
 public:
  static result<rtnetlink> open();
  rtnetlink(rtnetlink&& o) noexcept;
  rtnetlink& operator=(rtnetlink&&) = delete;
  rtnetlink(const rtnetlink&) = delete;
  ~rtnetlink();

  // Sends the request built by `build` and waits for its ACK; `what` names
  // the step in the error ("setting tap0 up").
  template <class Build>
  result<void> request(const char* what, Build&& build) {
    nlmsghdr* nlh = build(buffer_.data(), ++seq_);
    return transact(what, nlh);
  }
  std::uint32_t next_seq() { return ++seq_; }

 private:
  explicit rtnetlink(mnl_socket* s);
  result<void> transact(const char* what, nlmsghdr* nlh);
  mnl_socket* sock_ = nullptr;
  std::uint32_t port_ = 0;
  std::uint32_t seq_ = 0;
  std::vector<char> buffer_;
};

// Brings up `lo`, then configures tap0 (MAC, MTU, txqueuelen, up, addresses,
// default routes, gateway neighbours) from net/common/sandbox_addresses.hpp.
// Which families get a default route via the gateway: only those the host
// can reach, so that without one the tree's own kernel fails at once.
struct default_routes {
  bool ipv4 = true;
  bool ipv6 = true;
};
result<void> configure_sandbox_links(int tap_ifindex, default_routes routes);

}  // namespace netpen::backends::rootless
