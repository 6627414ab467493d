// /etc/hosts format: parsing and validation of --hosts-file contents.
// Usable by the DNS forwarder too (it answers A/AAAA from these entries).
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "net/common/error.hpp"

namespace netpen::app::cli {

struct hosts_entry {
  std::string address;             // literal as written (IPv6 may carry a %zone)
  bool v6 = false;
  std::vector<std::string> names;  // canonical name first, then aliases; as written
};

// Each non-blank line after stripping '#' comments: an IPv4 or IPv6 address
// followed by at least one host name. Errors read "<source>:<line>: <detail>".
result<std::vector<hosts_entry>> parse_hosts(std::string_view source, std::string_view contents);

}  // namespace netpen::app::cli
