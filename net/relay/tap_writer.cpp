// Frame construction and writev to the tap (see tap_writer.hpp).
#include "net/relay/tap_writer.hpp"

#include <asio/post.hpp>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <cerrno>

#include "net/common/log.hpp"
#include "net/common/sandbox_addresses.hpp"
#include "net/packet/ip_header.hpp"
#include "net/relay/tap_ring.hpp"

namespace netpen::relay {
namespace {
// struct virtio_net_hdr (linux/virtio_net.h is not C++-clean), in the
// host's byte order as the tap uses it without TUNSETVNETLE/BE.
struct vnet_header {
  std::uint8_t flags;
  std::uint8_t gso_type;
  std::uint16_t hdr_len;
  std::uint16_t gso_size;
  std::uint16_t csum_start;
  std::uint16_t csum_offset;
};
constexpr std::uint8_t vnet_needs_csum = 1;  // VIRTIO_NET_HDR_F_NEEDS_CSUM

// Addressing of a frame from the far end of flow `k` back to the child.
// Where the L4 header starts in a frame of flow `k` (Ethernet + IP).
std::size_t l4_offset(const flow_key& k) {
  return packet::ethernet_header_size + (k.dst.v6 ? packet::ipv6_header_size : packet::ipv4_header_size);
}

template <class Spec>
Spec toward_child(const flow_key& k) {
  Spec spec;
  spec.src_mac = sandbox::gateway_mac;
  spec.dst_mac = sandbox::child_mac;
  spec.src = k.dst;
  spec.dst = k.src;
  spec.src_port = k.dst_port;
  spec.dst_port = k.src_port;
  return spec;
}
}  // namespace

tap_writer::tap_writer() = default;
tap_writer::~tap_writer() = default;

void tap_writer::set_observer(frame_observer* o) {
  observer_ = o;
  if (ring_) ring_->set_observer(o);
}

void tap_writer::use_ring(std::unique_ptr<tap_ring> ring, asio::any_io_executor flush_on) {
  ring_ = std::move(ring);
  ring_->set_observer(observer_);
  flush_on_ = std::move(flush_on);
}

void tap_writer::send_tcp(const flow_key& k, const tcp::segment_out& s) {
  auto spec = toward_child<packet::tcp_segment_spec>(k);
  spec.seq = s.seq;
  spec.ack = s.ack;
  spec.flags = s.flags;
  spec.window = s.window;
  spec.mss = s.mss;
  spec.wscale = s.wscale;
  spec.payload = s.payload;
  spec.partial_checksum = true;
  std::array<std::byte, packet::max_header_size> hdr;
  const auto n = packet::build_tcp_headers(spec, hdr);
  write_frame(std::span<const std::byte>(hdr.data(), n), s.payload[0], s.payload[1], l4_offset(k), packet::tcp_checksum_offset);
}

void tap_writer::send_tcp_reset(const flow_key& k, std::uint32_t seq, std::uint32_t ack, bool with_ack) {
  tcp::segment_out s;
  s.seq = seq;
  s.ack = with_ack ? ack : 0;
  s.flags = static_cast<std::uint8_t>(packet::tcp_flag::rst | (with_ack ? packet::tcp_flag::ack : 0));
  send_tcp(k, s);
}

void tap_writer::send_udp(const flow_key& k, std::span<const std::byte> payload) {
  auto spec = toward_child<packet::udp_datagram_spec>(k);
  spec.payload = payload;
  spec.partial_checksum = true;
  std::array<std::byte, packet::max_header_size> hdr;
  const auto n = packet::build_udp_headers(spec, hdr);
  write_frame(std::span<const std::byte>(hdr.data(), n), payload, {}, l4_offset(k), packet::udp_checksum_offset);
}

void tap_writer::send_frame(std::span<const std::byte> frame) { write_frame(frame, {}, {}); }

void tap_writer::write_frame(std::span<const std::byte> header, std::span<const std::byte> p0,
                             std::span<const std::byte> p1, std::size_t l4_offset, std::size_t csum_offset) {
  static_assert(sizeof(vnet_header) == sandbox::tap_vnet_header_size);
  vnet_header vnet{};
  if (l4_offset != 0) {
    vnet.flags = vnet_needs_csum;
    vnet.csum_start = static_cast<std::uint16_t>(l4_offset);
    vnet.csum_offset = static_cast<std::uint16_t>(csum_offset);
  }
  if (ring_) {
    const std::array<std::span<const std::byte>, 4> pieces = {
        std::span<const std::byte>(reinterpret_cast<const std::byte*>(&vnet), sizeof(vnet)), header, p0, p1};
    if (queue_frame(pieces)) return;
  }
  std::array<iovec, 4> iov{};
  iov[0].iov_base = &vnet;
  iov[0].iov_len = sizeof(vnet);
  int count = 1;
  for (auto part : {header, p0, p1}) {
    if (part.empty()) continue;
    iov[static_cast<std::size_t>(count)].iov_base = const_cast<std::byte*>(part.data());
    iov[static_cast<std::size_t>(count)].iov_len = part.size();
    ++count;
  }
  // Too big for the ring's queue: the queued frames go first (the lock
  // keeps another thread's frames from slipping in between).
  std::unique_lock lock(ring_mu_, std::defer_lock);
  if (ring_) {
    lock.lock();
    if (!ring_->empty()) count_results(ring_->submit());
  }
  for (int attempt = 0; attempt < 2; ++attempt) {
    const ssize_t n = ::writev(fd_, iov.data(), count);
    if (n >= 0) {
      frames_.fetch_add(1, std::memory_order_relaxed);
      if (observer_ != nullptr) observer_->frame(frame_direction::to_child, header, p0, p1);
      return;
    }
    if (errno != EINTR) break;
  }
  // The tap dropped it (queue full or link gone); TCP retransmits, DNS retries.
  dropped_.fetch_add(1, std::memory_order_relaxed);
  log::debug("tap write failed: {}", errno);
}

bool tap_writer::queue_frame(std::span<const std::span<const std::byte>> pieces) {
  std::lock_guard lock(ring_mu_);
  if (!ring_->queue(pieces)) return false;
  if (!flush_posted_) {
    flush_posted_ = true;
    asio::post(flush_on_, [this] { flush(); });
  }
  return true;
}

void tap_writer::flush() {
  std::lock_guard lock(ring_mu_);
  flush_posted_ = false;
  count_results(ring_->submit());
}

std::size_t tap_writer::flush_and_read(std::span<packet_buffer> reads) {
  if (!ring_) return 0;
  std::lock_guard lock(ring_mu_);
  const auto r = ring_->submit(reads);
  count_results(r);
  return r.frames_read;
}

void tap_writer::count_results(const tap_ring_result& r) {
  if (r.sent != 0) frames_.fetch_add(r.sent, std::memory_order_relaxed);
  if (r.dropped != 0) dropped_.fetch_add(r.dropped, std::memory_order_relaxed);
}

}  // namespace netpen::relay
