// Recycling of frame buffers (see packet_pool.hpp).
#include "net/relay/packet_pool.hpp"

namespace netpen::relay {

packet_buffer& packet_buffer::operator=(packet_buffer&& o) noexcept {
  if (this != &o) {
    release();
    pool_ = o.pool_;
    data_ = std::move(o.data_);
    size_ = o.size_;
    front_ = o.front_;
  }
  return *this;
}

packet_buffer::~packet_buffer() { release(); }

void packet_buffer::release() {
  if (data_ && pool_ != nullptr) pool_->put(std::move(data_));
  data_.reset();
}

packet_buffer packet_pool::get() {
  {
    std::lock_guard lock(mu_);
    if (!free_.empty()) {
      auto d = std::move(free_.back());
      free_.pop_back();
      return packet_buffer(this, std::move(d));
    }
  }
  return packet_buffer(this, std::make_unique_for_overwrite<std::byte[]>(frame_buffer_size));
}

void packet_pool::put(std::unique_ptr<std::byte[]> data) {
  std::lock_guard lock(mu_);
  if (free_.size() < max_cached_) free_.push_back(std::move(data));
}

}  // namespace netpen::relay
