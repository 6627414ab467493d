// The names the tree's DNS answers bound to each address during the run,
// each valid until its TTL runs out: what lets "an allowed name resolved to
// this IP" be checked when a flow starts. Bounded: past the limit the
// binding learned (or refreshed) longest ago is dropped. Not thread-safe;
// policy::policy serialises access.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "net/packet/frame.hpp"

namespace netpen::policy {

class learned_names {
 public:
  using clock = std::chrono::steady_clock;

  explicit learned_names(std::size_t limit) : limit_(limit) {}

  // name -> ip until `expires`; a repeated binding is refreshed. Expired
  // bindings of ip are dropped on the way.
  void learn(std::string_view name, const packet::ip_address& ip, clock::time_point expires, clock::time_point now);

  // The names bound to ip that are still valid at now, most recent first.
  std::vector<std::string> names_for(const packet::ip_address& ip, clock::time_point now) const;

  // Bindings held (valid or not yet dropped).
  std::size_t size() const { return by_age_.size(); }

 private:
  struct binding {
    std::string name;
    clock::time_point expires;
    std::uint64_t seq = 0;  // key in by_age_
  };
  struct ip_hash {
    std::size_t operator()(const packet::ip_address& ip) const noexcept;
  };
  using bindings = std::vector<binding>;

  void drop(const packet::ip_address& ip, std::uint64_t seq);
  void drop_expired(const packet::ip_address& ip, clock::time_point now);
  void evict_oldest();

  std::size_t limit_;
  std::uint64_t next_seq_ = 0;
  std::unordered_map<packet::ip_address, bindings, ip_hash> by_ip_;
  std::map<std::uint64_t, packet::ip_address> by_age_;  // seq -> the address holding that binding
};

}  // namespace netpen::policy
