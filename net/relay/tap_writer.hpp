// Sends frames to the child through the tap: TCP segments and UDP datagrams
// built as headers in a small stack buffer plus the payload spans, written
// with one writev (one frame per call; safe from any thread). Each frame
// goes behind a virtio-net header; TCP and UDP leave their checksum to the
// receiving kernel (NEEDS_CSUM: only the pseudo-header is summed here).
#pragma once
#include <atomic>
#include <cstdint>
#include <span>

#include "net/relay/flow_key.hpp"
#include "net/relay/frame_observer.hpp"
#include "net/tcp/tcp_endpoint.hpp"

namespace netpen::relay {

class tap_writer {
 public:
  tap_writer() = default;
  // Set once, before any frame can be sent (before the tap reader starts).
  void set_fd(int fd) { fd_ = fd; }
  // Set once, before any frame can be sent; sees every frame written.
  void set_observer(frame_observer* o) { observer_ = o; }

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
  int fd_ = -1;
  frame_observer* observer_ = nullptr;
  std::atomic<std::uint64_t> frames_{0};
  std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace netpen::relay
