// /etc/hosts format, sans-I/O: parsing (strictly for the user's
// --hosts-file, errors carry the line number), case-insensitive lookup by
// name and family, and rendering of the merged file the sandbox sees as
// /etc/hosts (overlay first, so libc's first match picks it).
#pragma once
#include <asio/ip/address.hpp>

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "net/common/error.hpp"

namespace netpen::dns {

struct hosts_entry {
  asio::ip::address address;
  std::vector<std::string> names;  // as written (case kept)
};

class hosts_table {
 public:
  // Adds one line's worth: an address with its names.
  void add(const asio::ip::address& address, std::vector<std::string> names);

  // Addresses of `name` for one family, in file order (no duplicates).
  // Case-insensitive; a trailing dot is ignored.
  std::vector<asio::ip::address> lookup(std::string_view name, bool v6) const;
  // Whether `name` appears at all (with an address of either family).
  bool contains(std::string_view name) const;

  bool empty() const { return entries_.empty(); }
  const std::vector<hosts_entry>& entries() const { return entries_; }

 private:
  struct family_lists {
    std::vector<asio::ip::address> v4;
    std::vector<asio::ip::address> v6;
  };
  std::vector<hosts_entry> entries_;
  std::unordered_map<std::string, family_lists> by_name_;
};

// Lower case, trailing dot removed: the key hosts lookups use.
std::string normalize_hostname(std::string_view name);

// Parses hosts-format text. Any invalid line (bad address, address without
// names, invalid name) is an error "<source>:<line>: ...".
result<hosts_table> parse_hosts(std::string_view text, std::string_view source = "hosts file");

// The sandbox's /etc/hosts: a marker comment, the overlay's entries, then the
// host's file unchanged (a final newline added if missing).
std::string render_overlay(std::string_view host_etc_hosts_text, const hosts_table& overlay);

}  // namespace netpen::dns
