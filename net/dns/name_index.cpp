// The name index (see name_index.hpp).
#include "net/dns/name_index.hpp"

#include <algorithm>
#include <cctype>

namespace netpen::dns {
namespace {

// The key: the address family and bytes, so 1.2.3.4 and ::ffff:1.2.3.4 differ.
std::string key_of(const asio::ip::address& a) {
  if (a.is_v4()) {
    const auto b = a.to_v4().to_bytes();
    return std::string(1, '4') + std::string(b.begin(), b.end());
  }
  const auto b = a.to_v6().to_bytes();
  return std::string(1, '6') + std::string(b.begin(), b.end());
}

}  // namespace

std::string normalize_name(std::string_view name) {
  while (!name.empty() && name.back() == '.') name.remove_suffix(1);
  std::string out(name);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

name_index::name_index(std::size_t capacity) : capacity_(std::max<std::size_t>(capacity, 1)) {}

void name_index::record(std::string_view qname, const std::vector<answer_record>& records) {
  for (const auto& r : records)
    if (r.type == type_a || r.type == type_aaaa) remember(r.address, qname);
}

void name_index::remember(const asio::ip::address& address, std::string_view name) {
  auto normalized = normalize_name(name);
  if (normalized.empty()) return;
  auto key = key_of(address);
  std::lock_guard lock(mutex_);
  auto [it, inserted] = names_.try_emplace(key, std::move(normalized));
  if (!inserted) {
    it->second = normalize_name(name);  // the latest lookup wins; keeps its place in the order
    return;
  }
  order_.push_back(std::move(key));
  while (order_.size() > capacity_) {
    names_.erase(order_.front());
    order_.pop_front();
  }
}

std::optional<std::string> name_index::lookup(const asio::ip::address& address) const {
  std::lock_guard lock(mutex_);
  auto it = names_.find(key_of(address));
  if (it == names_.end()) return std::nullopt;
  return it->second;
}

std::size_t name_index::size() const {
  std::lock_guard lock(mutex_);
  return names_.size();
}

}  // namespace netpen::dns
