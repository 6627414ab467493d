// One change a rootful run makes on the host (a veth, an nftables table, a
// sysctl, an ip rule, routes in a private table), as a plain value: what its
// undo needs, its JSON form in the run's state file, and a one-line
// description for people ("veth np3fa9c1").
#pragma once
#include <cstdint>
#include <string>
#include <variant>

#include <nlohmann/json_fwd.hpp>

#include "net/common/error.hpp"

namespace netpen::backends::rootful {

enum class ip_family { ipv4, ipv6 };

// A veth pair we created, by its host end's name (deleting it removes both).
struct veth {
  std::string name;
  bool operator==(const veth&) const = default;
};

// An nftables table we created; family is nft's word: inet, ip, ip6, ...
struct nft_table {
  std::string family;
  std::string name;
  bool operator==(const nft_table&) const = default;
};

// A sysctl we changed; path is relative to /proc/sys
// ("net/ipv4/conf/np3fa9c1/forwarding"); undo writes original_value back.
struct sysctl {
  std::string path;
  std::string original_value;
  bool operator==(const sysctl&) const = default;
};

// A policy-routing rule we added: fwmark/mask lookup table, at priority.
struct ip_rule {
  ip_family family = ip_family::ipv4;
  std::uint32_t fwmark = 0;
  std::uint32_t mask = 0xffffffff;
  std::uint32_t table = 0;
  std::uint32_t priority = 0;
  bool operator==(const ip_rule&) const = default;
};

// A routing table that only netpen uses; undo flushes every route in it.
struct route_table {
  ip_family family = ip_family::ipv4;
  std::uint32_t table = 0;
  bool operator==(const route_table&) const = default;
};

using host_change = std::variant<veth, nft_table, sysctl, ip_rule, route_table>;

// "veth np3fa9c1", "nftables table inet netpen_3fa9c1",
// "sysctl net.ipv4.conf.np3fa9c1.forwarding back to 0", ...
std::string describe(const host_change& c);

// Every field checked: names are what the kernel and nft accept, the sysctl
// path stays under /proc/sys, tables are not the kernel's own.
result<void> validate(const host_change& c);

// {"kind": "veth", "name": "np3fa9c1"}, {"kind": "nft_table", ...}, ...
nlohmann::json to_json(const host_change& c);
result<host_change> host_change_from_json(const nlohmann::json& j);

}  // namespace netpen::backends::rootful
