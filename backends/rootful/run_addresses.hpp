// The names and addresses of one rootful run: a per-run id, the veth pair's
// names, and a private /30 (10.249.0.0/16) plus a ULA /64 that no host
// address or route overlaps. Pure: the caller passes what the host uses.
#pragma once
#include <cstdint>
#include <span>
#include <string>

#include "net/common/error.hpp"

namespace netpen::backends::rootful {

// An IPv4 network in use on the host (address in host byte order).
struct ipv4_net {
  std::uint32_t address = 0;
  int prefix = 32;
};

struct run_addresses {
  std::string id;        // 6 lowercase hex digits
  std::string veth;      // host end: "np" + id
  std::string peer;      // the tree's end before it is renamed eth0 inside: "np" + id + "c"
  std::string child4, gateway4;  // the /30's .2 and .1
  std::string child6, gateway6;  // the /64's ::2 and ::1
  static constexpr int prefix4 = 30;
  static constexpr int prefix6 = 64;
};

// A fresh run id (6 hex digits) from a random seed.
std::string make_run_id(std::uint32_t seed);

// The run's addresses: the /30 at `seed`'s slot in 10.249.0.0/16, moving on
// to the next slot while one overlaps `in_use`; an error when all do.
result<run_addresses> plan_addresses(const std::string& id, std::uint32_t seed, std::span<const ipv4_net> in_use);

}  // namespace netpen::backends::rootful
