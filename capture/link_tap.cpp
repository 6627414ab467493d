// The rootful `child` capture point (see link_tap.hpp).
#include "capture/link_tap.hpp"

#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

namespace netpen::capture {
namespace {

constexpr std::size_t max_frame = 256 * 1024;  // GRO/GSO super-frames fit
constexpr int receive_buffer = 8 * 1024 * 1024;

}  // namespace

result<std::unique_ptr<link_tap>> link_tap::open(const std::string& interface, relay::frame_observer& observer) {
  const unsigned ifindex = ::if_nametoindex(interface.c_str());
  if (ifindex == 0) return fail("capture", fmt::format("cannot capture on {}: no such interface", interface));
  const int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ALL));
  if (fd < 0) return fail("capture", fmt::format("cannot open a packet socket: {}", std::strerror(errno)));
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &receive_buffer, sizeof receive_buffer);
  sockaddr_ll at{};
  at.sll_family = AF_PACKET;
  at.sll_protocol = htons(ETH_P_ALL);
  at.sll_ifindex = static_cast<int>(ifindex);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&at), sizeof at) != 0) {
    const int e = errno;
    ::close(fd);
    return fail("capture", fmt::format("cannot capture on {}: {}", interface, std::strerror(e)));
  }
  std::unique_ptr<link_tap> tap(new link_tap(fd, observer));
  auto reader = fd_reader::open({fd}, [t = tap.get()] { t->drain(); }, "child capture");
  if (!reader) return unexpected<error>(reader.error());
  tap->reader_ = std::move(*reader);
  if (auto started = tap->reader_->start(); !started) return unexpected<error>(started.error());
  return tap;
}

link_tap::link_tap(int fd, relay::frame_observer& observer) : fd_(fd), observer_(observer), buf_(max_frame) {}

link_tap::~link_tap() {
  close();
  ::close(fd_);
}

void link_tap::close() {
  if (reader_) reader_->stop();
}

void link_tap::drain() {
  for (;;) {
    sockaddr_ll from{};
    socklen_t len = sizeof from;
    const ssize_t n = ::recvfrom(fd_, buf_.data(), buf_.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 0) return;
    const auto d = from.sll_pkttype == PACKET_OUTGOING ? relay::frame_direction::to_child
                                                        : relay::frame_direction::from_child;
    observer_.frame(d, std::span<const std::byte>(buf_.data(), static_cast<std::size_t>(n)), {}, {});
  }
}

}  // namespace netpen::capture
