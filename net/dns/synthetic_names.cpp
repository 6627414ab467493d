// Synthetic addresses for proxied names (see synthetic_names.hpp). Slot i is
// the address range_base + 1 + i, so the network address is never used.
#include "net/dns/synthetic_names.hpp"

#include <algorithm>

#include "net/dns/name_index.hpp"

namespace netpen::dns {

synthetic_names::synthetic_names(std::uint32_t capacity)
    : capacity_(std::clamp<std::uint32_t>(capacity, 1, (1u << (32 - range_prefix)) - 2)) {}

bool synthetic_names::in_range(const asio::ip::address& a) {
  if (!a.is_v4()) return false;
  return (a.to_v4().to_uint() >> (32 - range_prefix)) == (range_base >> (32 - range_prefix));
}

asio::ip::address_v4 synthetic_names::address_for(std::string_view name) {
  auto normalized = normalize_name(name);
  std::lock_guard lock(mutex_);
  if (auto it = by_name_.find(normalized); it != by_name_.end())
    return asio::ip::address_v4(range_base + 1 + it->second);
  const std::uint32_t slot = next_;
  next_ = (next_ + 1) % capacity_;
  if (by_slot_.size() <= slot) by_slot_.resize(slot + 1);
  if (!by_slot_[slot].empty()) by_name_.erase(by_slot_[slot]);  // the oldest name lets go
  by_slot_[slot] = normalized;
  by_name_.emplace(std::move(normalized), slot);
  return asio::ip::address_v4(range_base + 1 + slot);
}

std::optional<std::string> synthetic_names::name_for(const asio::ip::address& a) const {
  if (!in_range(a)) return std::nullopt;
  const std::uint32_t offset = a.to_v4().to_uint() - range_base;
  if (offset == 0) return std::nullopt;
  std::lock_guard lock(mutex_);
  const std::uint32_t slot = offset - 1;
  if (slot >= by_slot_.size() || by_slot_[slot].empty()) return std::nullopt;
  return by_slot_[slot];
}

}  // namespace netpen::dns
