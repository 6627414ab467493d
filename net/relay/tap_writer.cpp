// Frame construction and writev to the tap (see tap_writer.hpp).
#include "net/relay/tap_writer.hpp"

#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <cerrno>

#include "net/common/log.hpp"
#include "net/common/sandbox_addresses.hpp"

namespace netpen::relay {
namespace {
// Addressing of a frame from the far end of flow `k` back to the child.
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

void tap_writer::send_tcp(const flow_key& k, const tcp::segment_out& s) {
  auto spec = toward_child<packet::tcp_segment_spec>(k);
  spec.seq = s.seq;
  spec.ack = s.ack;
  spec.flags = s.flags;
  spec.window = s.window;
  spec.mss = s.mss;
  spec.wscale = s.wscale;
  spec.payload = s.payload;
  std::array<std::byte, packet::max_header_size> hdr;
  const auto n = packet::build_tcp_headers(spec, hdr);
  write_frame(std::span<const std::byte>(hdr.data(), n), s.payload[0], s.payload[1]);
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
  std::array<std::byte, packet::max_header_size> hdr;
  const auto n = packet::build_udp_headers(spec, hdr);
  write_frame(std::span<const std::byte>(hdr.data(), n), payload, {});
}

void tap_writer::send_frame(std::span<const std::byte> frame) { write_frame(frame, {}, {}); }

void tap_writer::write_frame(std::span<const std::byte> header, std::span<const std::byte> p0,
                             std::span<const std::byte> p1) {
  std::array<iovec, 3> iov{};
  int count = 0;
  for (auto part : {header, p0, p1}) {
    if (part.empty()) continue;
    iov[static_cast<std::size_t>(count)].iov_base = const_cast<std::byte*>(part.data());
    iov[static_cast<std::size_t>(count)].iov_len = part.size();
    ++count;
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

}  // namespace netpen::relay
