// Storage for the TCP rings: anonymous mappings of their own, so a ring that
// is given back returns all its pages to the kernel at once (heap chunks
// would leave their touched pages resident among live objects: with 10,000
// idle connections that was 100 MB). A few freed blocks of the initial ring
// size are kept for reuse, so short connections cost no mmap/munmap.
#pragma once
#include <cstddef>
#include <memory>

namespace netpen::tcp {

struct ring_storage_deleter {
  std::size_t size = 0;
  void operator()(std::byte* p) const;
};
using ring_storage = std::unique_ptr<std::byte[], ring_storage_deleter>;

// `size` bytes, untouched (so not resident) until written. Throws
// std::bad_alloc when the kernel refuses the mapping.
ring_storage allocate_ring_storage(std::size_t size);

}  // namespace netpen::tcp
