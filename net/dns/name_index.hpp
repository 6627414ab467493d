// The name index: which DNS name the tree looked up to get each address.
// Fed by the forwarder's answers (the question's name for every A/AAAA
// record, CNAME chains included), read when a flow opens so proxies,
// events and policy can say "web.example:443" rather than only an IP.
// Bounded: the oldest entries go first. Thread-safe.
#pragma once
#include <asio/ip/address.hpp>

#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "net/dns/message.hpp"

namespace netpen::dns {

// "Web.Example." -> "web.example": the form names are kept and shown in.
std::string normalize_name(std::string_view name);

class name_index {
 public:
  explicit name_index(std::size_t capacity = 16384);

  // Remembers `qname` for every A/AAAA address in `records`.
  void record(std::string_view qname, const std::vector<answer_record>& records);
  void remember(const asio::ip::address& address, std::string_view name);
  // The name most recently answered with `address`, if any.
  std::optional<std::string> lookup(const asio::ip::address& address) const;
  std::size_t size() const;

 private:
  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::string> names_;  // address bytes -> name
  std::deque<std::string> order_;                       // insertion order, for eviction
};

}  // namespace netpen::dns
