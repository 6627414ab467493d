// resolv.conf, sans-I/O: the host's nameservers (the forwarder's default
// upstreams) and search/domain/options lines, and the sandbox's resolv.conf
// that points every lookup at the gateway.
#pragma once
#include <asio/ip/address.hpp>

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "net/dns/upstream.hpp"

namespace netpen::dns {

struct resolv_conf {
  std::vector<upstream_server> nameservers;  // port 53, in file order
  std::vector<std::string> search_lines;     // "search ..." / "domain ..." lines, verbatim
  std::vector<std::string> option_lines;     // "options ..." lines, verbatim
};

// Lenient like libc: unknown keywords, comments ('#' or ';') and bad
// nameserver values are skipped. IPv6 nameservers may carry a %scope.
resolv_conf parse_resolv_conf(std::string_view text);

// The sandbox's resolv.conf: a marker comment, the host's search/domain and
// options lines, then one nameserver line per gateway address.
std::string render_resolv_conf(std::span<const asio::ip::address> gateways, const resolv_conf& host);

}  // namespace netpen::dns
