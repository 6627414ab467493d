// What the child is told when the host side of its flow fails: pure
// decisions from what the host socket said (its errno, the ICMP error the
// kernel queued for it). The flows do the I/O and send what these say.
#pragma once
#include <optional>

#include "net/packet/frame.hpp"
#include "net/relay/socket_errors.hpp"

namespace netpen::relay {

// The ICMP error a host socket's errno stands for when nothing was queued
// (the host itself has no route: ENETUNREACH, EHOSTUNREACH; a UDP peer's
// ECONNREFUSED), as if `dst` had sent it; nullopt for other errors.
std::optional<icmp_report> icmp_report_for_errno(int err, const packet::ip_address& dst);

// A TCP connect for the child's SYN failed with `err`: the ICMP error to
// pass on (the one the kernel queued for the connect, such as a router's
// Time Exceeded; else the one an unreachable errno stands for), or nullopt
// for a reset (refused: TCP's own answer; timed out and anything else).
std::optional<icmp_report> icmp_for_failed_connect(int err, std::optional<icmp_report> queued,
                                                   const packet::ip_address& dst);

}  // namespace netpen::relay
