// Ring storage as private anonymous mappings, with a small cache of freed
// blocks of the common (initial) size (see ring_storage.hpp).
#include "net/tcp/ring_storage.hpp"

#include <sys/mman.h>

#include <mutex>
#include <new>
#include <vector>

namespace netpen::tcp {
namespace {
constexpr std::size_t cached_size = 64u << 10;  // config::tx_initial_capacity's default
constexpr std::size_t max_cached = 128;         // at most 8 MiB kept

struct cache {
  std::mutex mu;
  std::vector<std::byte*> blocks;
};
cache& the_cache() {
  static auto* c = new cache;  // never destroyed: a ring may be freed during static destruction
  return *c;
}
}  // namespace

ring_storage allocate_ring_storage(std::size_t size) {
  if (size == cached_size) {
    auto& c = the_cache();
    std::lock_guard lock(c.mu);
    if (!c.blocks.empty()) {
      std::byte* p = c.blocks.back();
      c.blocks.pop_back();
      return ring_storage(p, ring_storage_deleter{size});
    }
  }
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  return ring_storage(static_cast<std::byte*>(p), ring_storage_deleter{size});
}

void ring_storage_deleter::operator()(std::byte* p) const {
  if (p == nullptr) return;
  if (size == cached_size) {
    auto& c = the_cache();
    std::lock_guard lock(c.mu);
    if (c.blocks.size() < max_cached) {
      c.blocks.push_back(p);
      return;
    }
  }
  ::munmap(p, size);
}

}  // namespace netpen::tcp
