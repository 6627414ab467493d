// rtnetlink through libmnl (never by running `ip`): one NETLINK_ROUTE socket
// that sends a request and waits for its ACK, or dumps a table message by
// message; plus the generic request builders (link up/MTU/txqueuelen/MAC,
// address, main-table default route, permanent neighbour, link delete).
// Message building is separate from sending so the messages can be checked in
// unit tests.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "net/common/error.hpp"

struct nlmsghdr;
struct mnl_socket;

namespace netpen::backends {

using mac_address = std::array<std::uint8_t, 6>;

struct link_settings {
  int ifindex = 0;
  bool up = true;
  int mtu = 0;       // 0: unchanged
  int txqlen = 0;    // 0: unchanged
  const mac_address* mac = nullptr;
  // IFLA_INET6_ADDR_GEN_MODE none: the link gets no IPv6 link-local address
  // when it comes up, so no DAD, router solicitation or autoconfiguration
  // starts on it. Takes effect only if the link is still down; the kernel
  // applies the flags before this, so set it in a request without `up`.
  bool no_ipv6_link_local = false;
};

// Builders: write one request into buf (at least MNL_SOCKET_BUFFER_SIZE
// bytes) and return it. `addr` is 4 bytes for AF_INET, 16 for AF_INET6.
nlmsghdr* build_link_set(char* buf, std::uint32_t seq, const link_settings& s);
// `flags` are IFA_F_* (IFA_F_NODAD for an IPv6 address usable at once).
nlmsghdr* build_addr_add(char* buf, std::uint32_t seq, int ifindex, int family,
                         std::span<const std::uint8_t> addr, int prefix, std::uint32_t flags);
nlmsghdr* build_default_route(char* buf, std::uint32_t seq, int ifindex, int family,
                              std::span<const std::uint8_t> gateway);
nlmsghdr* build_neigh_permanent(char* buf, std::uint32_t seq, int ifindex, int family,
                                std::span<const std::uint8_t> dst, const mac_address& mac);
// RTM_DELLINK by IFLA_IFNAME. Deleting one end of a veth pair removes both.
nlmsghdr* build_link_delete(char* buf, std::uint32_t seq, std::string_view name);

// Pieces for builders elsewhere: the header of a request that wants an ACK
// (NLM_F_REQUEST | NLM_F_ACK | flags), of a dump request (NLM_F_REQUEST |
// NLM_F_DUMP) and a zeroed family header appended to the message.
nlmsghdr* start_request(char* buf, std::uint16_t type, std::uint16_t flags, std::uint32_t seq);
nlmsghdr* start_dump(char* buf, std::uint16_t type, std::uint32_t seq);
void* put_family_header(nlmsghdr* nlh, std::size_t size);
template <class T>
T* put_family_header(nlmsghdr* nlh) {
  return static_cast<T*>(put_family_header(nlh, sizeof(T)));
}

// One NETLINK_ROUTE socket, bound to the network namespace it was opened in.
// Each request waits for its ACK; errors carry the kernel's own explanation
// (extended ACK) when it gives one.
class rtnetlink {
 public:
  static result<rtnetlink> open();
  // Opens the socket inside the namespace `netns_fd` (a /proc/PID/ns/net
  // descriptor) and returns the calling thread to its own namespace.
  static result<rtnetlink> open_in(int netns_fd);
  rtnetlink(rtnetlink&& o) noexcept;
  rtnetlink& operator=(rtnetlink&&) = delete;
  rtnetlink(const rtnetlink&) = delete;
  ~rtnetlink();

  // Sends the request built by `build` and waits for its ACK; `what` names
  // the step in the error ("setting tap0 up").
  template <class Build>
  result<void> request(const char* what, Build&& build) {
    nlmsghdr* nlh = build(buffer_.data(), ++seq_);
    return transact(what, nlh, 0);
  }
  // The same, but the kernel refusing with `tolerated_errno` (ENODEV,
  // EEXIST, ...) counts as success.
  template <class Build>
  result<void> request_tolerating(const char* what, int tolerated_errno, Build&& build) {
    nlmsghdr* nlh = build(buffer_.data(), ++seq_);
    return transact(what, nlh, tolerated_errno);
  }
  // Sends the dump request built by `build` (see start_dump) and calls
  // `each` for every answer message until NLMSG_DONE. If the kernel flags
  // the dump as interrupted (the table changed meanwhile), the error code is
  // "netlink-dump-interrupted" and the caller may start again.
  using message_sink = std::function<void(const nlmsghdr*)>;
  template <class Build>
  result<void> dump(const char* what, Build&& build, const message_sink& each) {
    nlmsghdr* nlh = build(buffer_.data(), ++seq_);
    return run_dump(what, nlh, each);
  }
  std::uint32_t next_seq() { return ++seq_; }

  // Several requests in one datagram, one system call each way: each step's
  // builder writes its request after the previous one. The kernel handles
  // every request in order, even after it refuses one, and ACKs each; the
  // first refusal is the error, named by its step's `what`. A step without
  // a builder is left out.
  struct step {
    const char* what;
    std::function<nlmsghdr*(char*, std::uint32_t)> build;
  };
  result<void> request_batch(std::initializer_list<step> steps);

 private:
  explicit rtnetlink(mnl_socket* s);
  result<void> transact(const char* what, nlmsghdr* nlh, int tolerated_errno);
  result<void> run_dump(const char* what, nlmsghdr* nlh, const message_sink& each);
  result<void> send(const char* what, const nlmsghdr* nlh);
  mnl_socket* sock_ = nullptr;
  std::uint32_t port_ = 0;
  std::uint32_t seq_ = 0;
  std::vector<char> buffer_;
  std::vector<char> rx_;
};

// Deletes the link `name`; a link that does not exist (ENODEV) counts as
// deleted.
result<void> delete_link_if_present(rtnetlink& nl, std::string_view name);

// The index of the link `name` in the calling thread's network namespace;
// error code "no-such-link" when there is none.
result<int> ifindex_of(std::string_view name);

}  // namespace netpen::backends
