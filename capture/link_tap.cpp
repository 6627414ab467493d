// The rootful `child` capture point (see link_tap.hpp).
#include "capture/link_tap.hpp"

#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <cerrno>
#include <csignal>
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
  const int wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake < 0) {
    ::close(fd);
    return fail("capture", fmt::format("eventfd: {}", std::strerror(errno)));
  }
  std::unique_ptr<link_tap> tap(new link_tap(fd, wake, observer));
  sigset_t all, old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_BLOCK, &all, &old);  // the reader takes no signals
  tap->reader_ = std::thread([t = tap.get()] { t->read_loop(); });
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return tap;
}

link_tap::link_tap(int fd, int wake_fd, relay::frame_observer& observer)
    : fd_(fd), wake_fd_(wake_fd), observer_(observer) {}

link_tap::~link_tap() {
  close();
  ::close(fd_);
  ::close(wake_fd_);
}

void link_tap::close() {
  if (closed_.exchange(true)) return;
  const std::uint64_t one = 1;
  (void)::write(wake_fd_, &one, sizeof one);
  if (reader_.joinable()) reader_.join();
}

void link_tap::read_loop() {
  std::vector<std::byte> buf(max_frame);
  for (;;) {
    // Drain what is queued (also after close(): the last frames count).
    for (;;) {
      sockaddr_ll from{};
      socklen_t len = sizeof from;
      const ssize_t n = ::recvfrom(fd_, buf.data(), buf.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &len);
      if (n < 0) break;
      const auto d = from.sll_pkttype == PACKET_OUTGOING ? relay::frame_direction::to_child
                                                          : relay::frame_direction::from_child;
      observer_.frame(d, std::span<const std::byte>(buf.data(), static_cast<std::size_t>(n)), {}, {});
    }
    if (closed_.load()) return;
    pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    if (::poll(fds, 2, 1000) < 0 && errno != EINTR) return;
  }
}

}  // namespace netpen::capture
