// A fixed-capacity byte ring buffer (allocated once, never grows) used for
// the TCP endpoint's rx and tx queues. Readable and writable regions are
// exposed as up to two spans because they may wrap around the end.
#pragma once
#include <array>
#include <cstddef>
#include <memory>
#include <span>

namespace netpen::tcp {

class byte_ring {
 public:
  explicit byte_ring(std::size_t capacity);

  std::size_t capacity() const { return capacity_; }
  std::size_t size() const { return size_; }
  std::size_t free() const { return capacity_ - size_; }
  bool empty() const { return size_ == 0; }

  // `len` readable bytes starting `offset` bytes after the head
  // (precondition: offset + len <= size()).
  std::array<std::span<const std::byte>, 2> peek(std::size_t offset, std::size_t len) const;
  std::array<std::span<const std::byte>, 2> readable() const { return peek(0, size_); }
  // The free region after the tail; follow with commit(). The spans stay
  // valid across consume() (it never moves the tail), so a caller may fill
  // them asynchronously while the head advances.
  std::array<std::span<std::byte>, 2> writable();
  // Makes n bytes of the writable region readable (n <= free()).
  void commit(std::size_t n);
  // Copies up to free() bytes in; returns how many.
  std::size_t write(std::span<const std::byte> data);
  // Drops n bytes from the head (n <= size()).
  void consume(std::size_t n);

 private:
  std::unique_ptr<std::byte[]> buf_;
  std::size_t capacity_ = 0;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace netpen::tcp
