// Error-queue reading for relayed sockets (see socket_errors.hpp).
#include "net/relay/socket_errors.hpp"

#include <time.h>  // linux/errqueue.h needs struct timespec

#include <linux/errqueue.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "net/packet/icmp.hpp"

namespace netpen::relay {

bool enable_error_queue(int fd, bool v6, bool on) {
  const int value = on ? 1 : 0;
  return v6 ? ::setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &value, sizeof value) == 0
            : ::setsockopt(fd, IPPROTO_IP, IP_RECVERR, &value, sizeof value) == 0;
}

std::optional<icmp_report> read_queued_error(int fd, bool v6) {
  std::array<std::byte, 64> data;  // the start of the datagram the error refers to
  alignas(cmsghdr) std::array<char, 512> control;
  iovec iov{data.data(), data.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  const ssize_t n = ::recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT);
  if (n < 0) return std::nullopt;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    const bool ours = v6 ? (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)
                         : (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR);
    if (!ours) continue;
    sock_extended_err ee;
    std::memcpy(&ee, CMSG_DATA(c), sizeof ee);
    const auto origin = v6 ? SO_EE_ORIGIN_ICMP6 : SO_EE_ORIGIN_ICMP;
    if (ee.ee_origin != origin) return std::nullopt;
    // The offender's address follows the extended error (SO_EE_OFFENDER).
    const auto* offender = reinterpret_cast<const unsigned char*>(CMSG_DATA(c)) + sizeof ee;
    icmp_report r;
    r.original.assign(data.begin(), data.begin() + std::min<ssize_t>(n, static_cast<ssize_t>(data.size())));
    r.type = ee.ee_type;
    r.code = ee.ee_code;
    r.info = ee.ee_info;
    r.offender.v6 = v6;
    if (v6) {
      sockaddr_in6 sa;
      std::memcpy(&sa, offender, sizeof sa);
      if (sa.sin6_family != AF_INET6) return std::nullopt;
      std::memcpy(r.offender.bytes.data(), &sa.sin6_addr, 16);
    } else {
      sockaddr_in sa;
      std::memcpy(&sa, offender, sizeof sa);
      if (sa.sin_family != AF_INET) return std::nullopt;
      std::memcpy(r.offender.bytes.data(), &sa.sin_addr, 4);
    }
    return r;
  }
  return std::nullopt;
}

}  // namespace netpen::relay
