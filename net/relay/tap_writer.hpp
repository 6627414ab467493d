// Sends frames to the child through the tap: TCP segments and UDP datagrams
// built as headers in a small stack buffer plus the payload spans (safe from
// any thread). Each frame goes behind a virtio-net header; TCP and UDP leave
// their checksum to the receiving kernel (NEEDS_CSUM: only the pseudo-header
// is summed here).
//
// Without a ring every frame is one writev. With the tap's io_uring
// (tap_ring.hpp) a small frame is copied into the ring's queue instead, and
// the queue goes out in one io_uring_enter: at the end of the current turn
// of the event loop (a flush posted when the queue starts), or earlier with
// the tap reader's next read-ahead (flush_and_read). A frame too big for
// the queue (bulk data) flushes the queue, then goes out with writev, so
// frames reach the child in the order they were sent.
#pragma once
#include <asio/any_io_executor.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>

#include "net/relay/flow_key.hpp"
#include "net/relay/frame_observer.hpp"
#include "net/tcp/tcp_endpoint.hpp"

namespace netpen::relay {

class tap_ring;
struct tap_ring_result;
class packet_buffer;

class tap_writer {
 public:
  tap_writer();
  ~tap_writer();
  tap_writer(const tap_writer&) = delete;
  tap_writer& operator=(const tap_writer&) = delete;
  // Set once, before any frame can be sent (before the tap reader starts).
  void set_fd(int fd) { fd_ = fd; }
  // Set once, before any frame can be sent; sees every frame written.
  void set_observer(frame_observer* o);
  // Set once, after set_fd and set_observer, before any frame can be sent:
  // small frames are queued in `ring` and flushed on `flush_on`.
  void use_ring(std::unique_ptr<tap_ring> ring, asio::any_io_executor flush_on);
  bool has_ring() const { return ring_ != nullptr; }
  // With a ring: submits the queued frames and reads up to reads.size()
  // frames from the tap in one io_uring_enter; the frames read are the first
  // ones of `reads` (their count is returned). Without a ring: 0.
  std::size_t flush_and_read(std::span<packet_buffer> reads);

  // A segment of flow `k` (the child's view: src is the child) to the child.
  void send_tcp(const flow_key& k, const tcp::segment_out& s);
  // A RST|ACK answering an unexpected segment (no flow for it).
  void send_tcp_reset(const flow_key& k, std::uint32_t seq, std::uint32_t ack, bool with_ack);
  // A datagram to the child from (k.dst, k.dst_port) to (k.src, k.src_port).
  void send_udp(const flow_key& k, std::span<const std::byte> payload);
  // A prebuilt frame.
  void send_frame(std::span<const std::byte> frame);

  std::uint64_t frames_sent() const { return frames_.load(std::memory_order_relaxed); }
  std::uint64_t frames_dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  // l4_offset/csum_offset: the frame's L4 checksum is partial (0: complete).
  void write_frame(std::span<const std::byte> header, std::span<const std::byte> p0, std::span<const std::byte> p1,
                   std::size_t l4_offset = 0, std::size_t csum_offset = 0);
  bool queue_frame(std::span<const std::span<const std::byte>> pieces);
  void flush();
  void count_results(const tap_ring_result& r);
  int fd_ = -1;
  frame_observer* observer_ = nullptr;
  std::unique_ptr<tap_ring> ring_;
  asio::any_io_executor flush_on_;
  std::mutex ring_mu_;        // the ring and flush_posted_
  bool flush_posted_ = false;  // a flush is on its way for the queued frames
  std::atomic<std::uint64_t> frames_{0};
  std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace netpen::relay
