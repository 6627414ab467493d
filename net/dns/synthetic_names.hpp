// Synthetic addresses for names that must not be resolved on this side:
// with socks5h:// or --proxy-only the tree's A queries are answered with an
// address from 198.18.0.0/15 (RFC 2544's benchmarking range, never a real
// destination here), one per name, and a connection to that address goes to
// the proxy by name. The proxy resolves it; no DNS leaves directly.
// Same name, same address for the run. When the range is used up the
// oldest name gives its address to the new one. Thread-safe.
#pragma once
#include <asio/ip/address.hpp>

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace netpen::dns {

class synthetic_names {
 public:
  static constexpr std::uint32_t range_base = 0xc6120000;  // 198.18.0.0
  static constexpr unsigned range_prefix = 15;

  // `capacity` limits the addresses handed out (tests use a small one).
  explicit synthetic_names(std::uint32_t capacity = (1u << (32 - range_prefix)) - 2);

  static bool in_range(const asio::ip::address& a);
  // The address for `name` (normalized: lowercase, no trailing dot).
  asio::ip::address_v4 address_for(std::string_view name);
  // The name an address was handed out for, if it still is.
  std::optional<std::string> name_for(const asio::ip::address& a) const;

 private:
  std::uint32_t capacity_;
  mutable std::mutex mutex_;
  std::uint32_t next_ = 0;                                   // slot to hand out next
  std::vector<std::string> by_slot_;                         // slot -> name ("" when free)
  std::unordered_map<std::string, std::uint32_t> by_name_;  // name -> slot
};

}  // namespace netpen::dns
