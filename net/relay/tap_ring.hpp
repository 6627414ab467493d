// The tap's io_uring (liburing): cuts the system calls per frame on the tap.
// A tap takes one frame per read or write, so without it every frame costs
// a system call, and every batch of reads ends with one more that finds the
// tap empty. With it, the frames written to the child during one turn of
// the event loop go out in one io_uring_enter, together with the reads of
// the next batch (several read-ahead requests; the one that finds the tap
// empty costs no system call of its own).
//
// Theory of operation:
// - The ring knows one file, the tap, registered as its fixed file 0. It is
//   created disabled, restricted to READ and WRITE on fixed files (no other
//   operation, no other file, no later io_uring_register), then enabled; all
//   of that before netpen confines itself, whose allow-list then admits
//   io_uring_enter only (io_uring_setup and _register stay forbidden). So
//   the ring can do nothing the seccomp filter would refuse.
// - Every request carries RWF_NOWAIT: a read of an empty tap or a write the
//   tap cannot take completes at once (EAGAIN: nothing read, or a dropped
//   frame, as a non-blocking writev would) instead of waiting in the kernel.
//   So each submission completes inside its own io_uring_enter and no buffer
//   is held by the kernel after the call returns.
// - A queued frame is copied whole into one of slot_count slots of
//   slot_size bytes; a bigger frame is not queued (the caller flushes, then
//   writes it with writev, which keeps the order).
// - open() returns null where io_uring cannot be used (NETPEN_TAP_URING=0,
//   kernel.io_uring_disabled, a container's seccomp filter, an old kernel):
//   the relay then reads and writes the tap one frame per call as before.
// Not thread-safe: tap_writer serialises every call.
#pragma once
#include <liburing.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "net/relay/frame_observer.hpp"
#include "net/relay/packet_pool.hpp"

namespace netpen::relay {

struct tap_ring_result {
  std::size_t frames_read = 0;        // the first frames_read of `reads` hold a frame each
  std::size_t sent = 0, dropped = 0;  // of the queued frames
};

class tap_ring {
 public:
  static constexpr std::size_t slot_size = 2048;  // frames up to this size (with the virtio-net header) are queued
  static constexpr std::size_t slot_count = 64;
  static constexpr std::size_t max_reads = 16;  // read-ahead requests per submission

  // The ring for `tap_fd`, or null (the reason goes to the debug log).
  static std::unique_ptr<tap_ring> open(int tap_fd);
  ~tap_ring();
  tap_ring(const tap_ring&) = delete;
  tap_ring& operator=(const tap_ring&) = delete;

  // Sees every frame the tap took (set before the first frame).
  void set_observer(frame_observer* o) { observer_ = o; }
  // Copies the frame, made of `pieces` in order (the first is the virtio-net
  // header, not part of the frame proper), into a free slot, submitting the
  // queue first when every slot is taken. False (nothing queued) when the
  // frame is bigger than a slot.
  bool queue(std::span<const std::span<const std::byte>> pieces);
  bool empty() const { return queued_ == 0; }

  // Submits the queued frames and one read request per buffer of `reads`
  // (at most max_reads) in one io_uring_enter; waits for them all (they
  // complete inside the call). Each buffer that got a frame has its size
  // set (the virtio-net header in front skipped) and is moved to the front.
  tap_ring_result submit(std::span<packet_buffer> reads = {});

 private:
  explicit tap_ring(io_uring ring) : ring_(ring) {}
  void prepare_reads(std::span<packet_buffer> reads);
  void reap(std::span<packet_buffer> reads, std::span<int> read_result, tap_ring_result& r);

  io_uring ring_;
  frame_observer* observer_ = nullptr;
  std::size_t queued_ = 0;  // slots [0, queued_) hold frames not yet submitted
  std::array<std::size_t, slot_count> slot_len_{};
  std::unique_ptr<std::byte[]> slots_ = std::make_unique_for_overwrite<std::byte[]>(slot_size * slot_count);
};

}  // namespace netpen::relay
