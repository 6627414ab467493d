// The TTL-bound, size-bound table of name -> address bindings.
#include "net/policy/learned_names.hpp"

#include <algorithm>
#include <functional>

namespace netpen::policy {

std::size_t learned_names::ip_hash::operator()(const packet::ip_address& ip) const noexcept {
  const std::string_view raw(reinterpret_cast<const char*>(ip.bytes.data()), ip.bytes.size());
  return std::hash<std::string_view>{}(raw) ^ static_cast<std::size_t>(ip.v6);
}

void learned_names::learn(std::string_view name, const packet::ip_address& ip, clock::time_point expires,
                          clock::time_point now) {
  if (limit_ == 0) return;
  drop_expired(ip, now);
  auto& list = by_ip_[ip];
  auto it = std::ranges::find(list, name, &binding::name);
  if (it == list.end()) {
    list.push_back(binding{std::string(name), expires, 0});
    it = std::prev(list.end());
  } else {
    by_age_.erase(it->seq);
    it->expires = std::max(it->expires, expires);
  }
  it->seq = next_seq_++;
  by_age_.emplace(it->seq, ip);
  while (by_age_.size() > limit_) evict_oldest();
}

std::vector<std::string> learned_names::names_for(const packet::ip_address& ip, clock::time_point now) const {
  std::vector<const binding*> valid;
  if (auto found = by_ip_.find(ip); found != by_ip_.end())
    for (const auto& b : found->second)
      if (now < b.expires) valid.push_back(&b);
  std::ranges::sort(valid, std::greater{}, &binding::seq);
  std::vector<std::string> out;
  for (const auto* b : valid) out.push_back(b->name);
  return out;
}

void learned_names::drop(const packet::ip_address& ip, std::uint64_t seq) {
  auto found = by_ip_.find(ip);
  if (found == by_ip_.end()) return;
  std::erase_if(found->second, [seq](const binding& b) { return b.seq == seq; });
  if (found->second.empty()) by_ip_.erase(found);
  by_age_.erase(seq);
}

void learned_names::drop_expired(const packet::ip_address& ip, clock::time_point now) {
  auto found = by_ip_.find(ip);
  if (found == by_ip_.end()) return;
  std::vector<std::uint64_t> expired;
  for (const auto& b : found->second)
    if (b.expires <= now) expired.push_back(b.seq);
  for (auto seq : expired) drop(ip, seq);
}

void learned_names::evict_oldest() {
  const auto oldest = by_age_.begin();
  drop(oldest->second, oldest->first);
}

}  // namespace netpen::policy
