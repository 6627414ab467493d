// Fixed-size frame buffers recycled between the tap reader and the flows,
// so the hot path does not allocate per packet. A buffer handed to a flow
// returns to the pool when its owner (packet_buffer) is destroyed.
#pragma once
#include <algorithm>
#include <cstddef>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

namespace netpen::relay {

class packet_pool;

inline constexpr std::size_t frame_buffer_size = 65536 + 64;

class packet_buffer {
 public:
  packet_buffer() = default;
  packet_buffer(packet_pool* pool, std::unique_ptr<std::byte[]> data) : pool_(pool), data_(std::move(data)) {}
  packet_buffer(packet_buffer&&) noexcept = default;
  packet_buffer& operator=(packet_buffer&& o) noexcept;
  packet_buffer(const packet_buffer&) = delete;
  packet_buffer& operator=(const packet_buffer&) = delete;
  ~packet_buffer();

  std::span<std::byte> whole() { return {data_.get(), frame_buffer_size}; }
  std::span<const std::byte> bytes() const { return {data_.get() + front_, size_ - front_}; }
  // n bytes were read into whole(); the first `front` of them are not part
  // of the frame (the tap's virtio-net header).
  void set_size(std::size_t n, std::size_t front = 0) {
    size_ = n;
    front_ = std::min(front, n);
  }
  explicit operator bool() const { return data_ != nullptr; }

 private:
  void release();
  packet_pool* pool_ = nullptr;
  std::unique_ptr<std::byte[]> data_;
  std::size_t size_ = 0;
  std::size_t front_ = 0;
};

class packet_pool {
 public:
  explicit packet_pool(std::size_t max_cached = 256) : max_cached_(max_cached) {}
  packet_buffer get();
  void put(std::unique_ptr<std::byte[]> data);

 private:
  std::mutex mu_;
  std::vector<std::unique_ptr<std::byte[]>> free_;
  std::size_t max_cached_;
};

}  // namespace netpen::relay
