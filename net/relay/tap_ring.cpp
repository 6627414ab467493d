// The tap's io_uring: set-up with its restrictions, the write queue, the
// read-ahead (see tap_ring.hpp).
#include "net/relay/tap_ring.hpp"

#include <linux/fs.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "net/common/log.hpp"
#include "net/common/sandbox_addresses.hpp"

namespace netpen::relay {
namespace {
constexpr std::uint64_t read_tag = 1ull << 32;  // user_data of a read: read_tag | index; of a write: slot index
constexpr unsigned ring_entries = 128;          // >= slot_count + max_reads
static_assert(tap_ring::slot_count + tap_ring::max_reads <= ring_entries);

bool disabled_by_environment() {
  const char* v = std::getenv("NETPEN_TAP_URING");
  return v != nullptr && std::string_view(v) == "0";
}

// Only READ and WRITE, only on the registered tap, nothing to register later.
int restrict_ring(io_uring& ring) {
  std::array<io_uring_restriction, 3> r{};
  r[0].opcode = IORING_RESTRICTION_SQE_OP;
  r[0].sqe_op = IORING_OP_READ;
  r[1].opcode = IORING_RESTRICTION_SQE_OP;
  r[1].sqe_op = IORING_OP_WRITE;
  r[2].opcode = IORING_RESTRICTION_SQE_FLAGS_REQUIRED;
  r[2].sqe_flags = IOSQE_FIXED_FILE;
  return io_uring_register_restrictions(&ring, r.data(), static_cast<unsigned>(r.size()));
}
}  // namespace

std::unique_ptr<tap_ring> tap_ring::open(int tap_fd) {
  if (disabled_by_environment()) {
    log::debug("tap: io_uring off (NETPEN_TAP_URING=0); one system call per frame");
    return nullptr;
  }
  io_uring ring{};
  io_uring_params params{};
  params.flags = IORING_SETUP_R_DISABLED | IORING_SETUP_COOP_TASKRUN;
  if (const int rc = io_uring_queue_init_params(ring_entries, &ring, &params); rc < 0) {
    log::debug("tap: no io_uring ({}); one system call per frame", std::strerror(-rc));
    return nullptr;
  }
  int rc = io_uring_register_files(&ring, &tap_fd, 1);
  if (rc == 0) rc = restrict_ring(ring);
  if (rc == 0) rc = io_uring_enable_rings(&ring);
  if (rc < 0) {
    log::debug("tap: io_uring set-up failed ({}); one system call per frame", std::strerror(-rc));
    io_uring_queue_exit(&ring);
    return nullptr;
  }
  return std::unique_ptr<tap_ring>(new tap_ring(ring));
}

tap_ring::~tap_ring() { io_uring_queue_exit(&ring_); }

bool tap_ring::queue(std::span<const std::span<const std::byte>> pieces) {
  std::size_t total = 0;
  for (auto p : pieces) total += p.size();
  if (total > slot_size) return false;
  if (queued_ == slot_count) submit();
  std::byte* slot = slots_.get() + queued_ * slot_size;
  std::size_t at = 0;
  for (auto p : pieces) {
    if (!p.empty()) std::memcpy(slot + at, p.data(), p.size());
    at += p.size();
  }
  slot_len_[queued_] = total;
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);  // never null: slot_count + max_reads <= ring_entries
  io_uring_prep_write(sqe, 0, slot, static_cast<unsigned>(total), 0);
  sqe->flags |= IOSQE_FIXED_FILE;
  sqe->rw_flags = RWF_NOWAIT;
  sqe->user_data = queued_;
  ++queued_;
  return true;
}

void tap_ring::prepare_reads(std::span<packet_buffer> reads) {
  for (std::size_t i = 0; i < reads.size(); ++i) {
    auto whole = reads[i].whole();
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    io_uring_prep_read(sqe, 0, whole.data(), static_cast<unsigned>(whole.size()), 0);
    sqe->flags |= IOSQE_FIXED_FILE;
    sqe->rw_flags = RWF_NOWAIT;
    sqe->user_data = read_tag | i;
  }
}

tap_ring_result tap_ring::submit(std::span<packet_buffer> reads) {
  if (reads.size() > max_reads) reads = reads.first(max_reads);
  tap_ring_result r;
  const auto total = static_cast<unsigned>(queued_ + reads.size());
  if (total == 0) return r;
  prepare_reads(reads);
  int rc;
  do {
    rc = io_uring_submit_and_wait(&ring_, total);
  } while (rc == -EINTR);
  std::array<int, max_reads> read_result{};
  if (rc < 0) {
    // Nothing was submitted (the ring is unusable): the frames are dropped,
    // as a failed writev drops one; TCP retransmits.
    log::debug("tap: io_uring_enter failed: {}", std::strerror(-rc));
    r.dropped = queued_;
    queued_ = 0;
    return r;
  }
  reap(reads, std::span<int>(read_result.data(), reads.size()), r);
  queued_ = 0;
  // Frames to the front, in the order they were read.
  for (std::size_t i = 0; i < reads.size(); ++i) {
    if (read_result[i] <= 0) continue;
    reads[i].set_size(static_cast<std::size_t>(read_result[i]), sandbox::tap_vnet_header_size);
    if (i != r.frames_read) std::swap(reads[i], reads[r.frames_read]);
    ++r.frames_read;
  }
  return r;
}

void tap_ring::reap(std::span<packet_buffer> reads, std::span<int> read_result, tap_ring_result& r) {
  io_uring_cqe* cqe = nullptr;
  unsigned head = 0, seen = 0;
  io_uring_for_each_cqe(&ring_, head, cqe) {
    ++seen;
    if (cqe->user_data & read_tag) {
      const auto i = static_cast<std::size_t>(cqe->user_data & ~read_tag);
      if (i < reads.size()) read_result[i] = cqe->res;
      continue;
    }
    const auto slot = static_cast<std::size_t>(cqe->user_data);
    if (cqe->res < 0 || slot >= queued_) {
      ++r.dropped;  // the tap did not take it (queue full, link gone)
      continue;
    }
    ++r.sent;
    if (observer_ != nullptr) {
      const std::byte* frame = slots_.get() + slot * slot_size + sandbox::tap_vnet_header_size;
      observer_->frame(frame_direction::to_child, {frame, slot_len_[slot] - sandbox::tap_vnet_header_size}, {}, {});
    }
  }
  io_uring_cq_advance(&ring_, seen);
}

}  // namespace netpen::relay
