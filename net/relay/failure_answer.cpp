// Pure answers to host-side failures (see failure_answer.hpp).
#include "net/relay/failure_answer.hpp"

#include <cerrno>

#include "net/packet/icmp.hpp"

namespace netpen::relay {

std::optional<icmp_report> icmp_report_for_errno(int err, const packet::ip_address& dst) {
  icmp_report r;
  r.offender = dst;
  r.type = dst.v6 ? packet::icmp6::dest_unreachable : packet::icmp4::dest_unreachable;
  switch (err) {
    case EHOSTUNREACH:
      r.code = dst.v6 ? packet::icmp6::address_unreachable : packet::icmp4::host_unreachable;
      return r;
    case ENETUNREACH:
      r.code = dst.v6 ? packet::icmp6::no_route : packet::icmp4::net_unreachable;
      return r;
    case ECONNREFUSED:
      r.code = dst.v6 ? packet::icmp6::port_unreachable : packet::icmp4::port_unreachable;
      return r;
    default:
      return std::nullopt;
  }
}

std::optional<icmp_report> icmp_for_failed_connect(int err, std::optional<icmp_report> queued,
                                                   const packet::ip_address& dst) {
  if (queued) return queued;
  if (err == ECONNREFUSED) return std::nullopt;  // TCP's answer is a reset
  return icmp_report_for_errno(err, dst);
}

}  // namespace netpen::relay
