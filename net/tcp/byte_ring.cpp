// Fixed-capacity byte ring: the storage behind the TCP endpoint's queues.
#include "net/tcp/byte_ring.hpp"

#include <algorithm>
#include <cstring>

namespace netpen::tcp {

byte_ring::byte_ring(std::size_t capacity) : capacity_(capacity) {}

// The pages stay untouched (and unbacked) until used.
void byte_ring::allocate() {
  if (!buf_) buf_ = allocate_ring_storage(std::max<std::size_t>(capacity_, 1));
}

void byte_ring::grow(std::size_t capacity) {
  if (capacity <= capacity_) return;
  if (buf_) {
    auto bigger = allocate_ring_storage(capacity);
    std::size_t at = 0;
    for (const auto& s : readable()) {
      if (!s.empty()) std::memcpy(bigger.get() + at, s.data(), s.size());
      at += s.size();
    }
    buf_ = std::move(bigger);
    head_ = 0;
  }
  capacity_ = capacity;
}

void byte_ring::release() {
  if (size_ != 0) return;
  buf_.reset();
  head_ = 0;
}

std::array<std::span<const std::byte>, 2> byte_ring::peek(std::size_t offset, std::size_t len) const {
  offset = std::min(offset, size_);
  len = std::min(len, size_ - offset);
  if (len == 0) return {};
  std::size_t start = (head_ + offset) % capacity_;
  std::size_t first = std::min(len, capacity_ - start);
  return {std::span<const std::byte>(buf_.get() + start, first),
          std::span<const std::byte>(buf_.get(), len - first)};
}

std::array<std::span<std::byte>, 2> byte_ring::writable() {
  std::size_t len = free();
  if (len == 0) return {};
  allocate();
  std::size_t start = (head_ + size_) % capacity_;
  std::size_t first = std::min(len, capacity_ - start);
  return {std::span<std::byte>(buf_.get() + start, first), std::span<std::byte>(buf_.get(), len - first)};
}

void byte_ring::commit(std::size_t n) { size_ += std::min(n, free()); }

std::size_t byte_ring::write(std::span<const std::byte> data) {
  if (data.empty()) return 0;
  auto spans = writable();
  std::size_t done = 0;
  for (auto& s : spans) {
    std::size_t n = std::min(s.size(), data.size() - done);
    if (n != 0) std::memcpy(s.data(), data.data() + done, n);
    done += n;
  }
  commit(done);
  return done;
}

void byte_ring::consume(std::size_t n) {
  n = std::min(n, size_);
  if (capacity_ != 0) head_ = (head_ + n) % capacity_;
  size_ -= n;
  // The tail (head_ + size_) must not move here: the relay reads from the
  // host socket straight into writable() and commits after the read, while
  // ACKs may consume from the head in between.
}

}  // namespace netpen::tcp
