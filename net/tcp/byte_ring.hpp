// A fixed-capacity byte ring buffer used for the TCP endpoint's rx and tx
// queues. Readable and writable regions are exposed as up to two spans
// because they may wrap around the end. The storage is allocated when
// first written and can be given back while the ring is empty (release()),
// so thousands of idle connections cost no buffer memory (ring_storage:
// anonymous mappings, returned whole).
#pragma once
#include <array>
#include <cstddef>
#include <memory>
#include <span>

#include "net/tcp/ring_storage.hpp"

namespace netpen::tcp {

class byte_ring {
 public:
  explicit byte_ring(std::size_t capacity);

  std::size_t capacity() const { return capacity_; }
  std::size_t size() const { return size_; }
  std::size_t free() const { return capacity_ - size_; }
  bool empty() const { return size_ == 0; }
  // Whether the storage is allocated now.
  bool allocated() const { return buf_ != nullptr; }
  // Moves the contents into new storage of `capacity` bytes (at least
  // size()); no span handed out earlier may be used afterwards.
  void grow(std::size_t capacity);
  // Frees the storage when the ring is empty (no span handed out earlier
  // may be used afterwards); the next write allocates it again.
  void release();

  // `len` readable bytes starting `offset` bytes after the head
  // (precondition: offset + len <= size()).
  std::array<std::span<const std::byte>, 2> peek(std::size_t offset, std::size_t len) const;
  std::array<std::span<const std::byte>, 2> readable() const { return peek(0, size_); }
  // The free region after the tail; follow with commit(). The spans stay
  // valid across consume() (it never moves the tail), so a caller may fill
  // them asynchronously while the head advances.
  std::array<std::span<std::byte>, 2> writable();
  // (writable() allocates the storage.)
  // Makes n bytes of the writable region readable (n <= free()).
  void commit(std::size_t n);
  // Copies up to free() bytes in; returns how many.
  std::size_t write(std::span<const std::byte> data);
  // Drops n bytes from the head (n <= size()).
  void consume(std::size_t n);

 private:
  void allocate();
  ring_storage buf_;
  std::size_t capacity_ = 0;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace netpen::tcp
