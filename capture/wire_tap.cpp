// The wire-egress AF_PACKET tap: socket setup, the socket registry and its
// filter, the reader thread and the userspace double check.
#include "capture/wire_tap.hpp"

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <string>
#include <system_error>

#include "capture/capture_file.hpp"
#include "capture/wire_filter.hpp"
#include "net/packet/frame.hpp"

namespace netpen::capture {

namespace {

constexpr int receive_buffer_bytes = 4 << 20;
constexpr int poll_timeout_ms = 500;            // lingering sockets are purged at least this often
constexpr int packets_per_wake = 256;           // then poll again, so close() is never kept waiting
constexpr std::size_t smallest_budget = 32;     // below the all-coarse program: stop halving

std::string describe(int err) { return std::generic_category().message(err); }

int attach(int fd, const std::vector<sock_filter>& program) {
  sock_fprog prog{static_cast<unsigned short>(program.size()), const_cast<sock_filter*>(program.data())};
  return ::setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) == 0 ? 0 : errno;
}

void set_int(int fd, int level, int name, int value) { ::setsockopt(fd, level, name, &value, sizeof value); }

void grow_receive_buffer(int fd) {
  // SO_RCVBUFFORCE ignores net.core.rmem_max but needs CAP_NET_ADMIN.
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &receive_buffer_bytes, sizeof receive_buffer_bytes) != 0)
    set_int(fd, SOL_SOCKET, SO_RCVBUF, receive_buffer_bytes);
}

error socket_error(const std::string& what, int err) {
  if (err == EPERM || err == EACCES)
    return error{"capture-wire", "the wire-egress capture needs root or CAP_NET_RAW (" + what + ": " +
                                     describe(err) + ")"};
  return error{"capture-wire", "cannot open the wire-egress capture (" + what + ": " + describe(err) + ")"};
}

// The local-port key a host socket is filtered by, or nullopt for a
// protocol the filter does not know.
std::optional<std::pair<std::uint8_t, std::uint16_t>> port_of(const relay::host_conn& c) {
  switch (c.protocol) {
    case packet::proto_tcp:
    case packet::proto_udp:
    case packet::proto_icmp:
    case packet::proto_icmpv6:
      return std::pair{c.protocol, c.local_port};
    default:
      return std::nullopt;
  }
}

// Timestamp and original length from recvmsg's control messages.
struct packet_info {
  std::optional<std::uint64_t> ts_ns;
  std::optional<std::uint32_t> original_length;
};

packet_info read_control(msghdr& msg) {
  packet_info info;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      timespec ts{};
      std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
      info.ts_ns = static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
    } else if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA) {
      tpacket_auxdata aux{};
      std::memcpy(&aux, CMSG_DATA(c), sizeof aux);
      info.original_length = aux.tp_len;
    }
  }
  return info;
}

}  // namespace

result<std::unique_ptr<wire_tap>> wire_tap::open(packet_fn on_packet, std::chrono::milliseconds linger) {
  // Protocol 0: bound to nothing, the socket receives nothing until bind().
  const int fd = ::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return unexpected<error>(socket_error("AF_PACKET socket", errno));
  const int wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd < 0) {
    const int err = errno;
    ::close(fd);
    return unexpected<error>(socket_error("eventfd", err));
  }
  // From here the object owns both descriptors and closes them on every path.
  std::unique_ptr<wire_tap> tap(new wire_tap(fd, wake_fd, std::move(on_packet), linger));

  if (const int err = attach(fd, reject_all_filter()); err != 0)
    return unexpected<error>(socket_error("SO_ATTACH_FILTER", err));
  grow_receive_buffer(fd);
  set_int(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1);  // else timestamps are taken on reading
  set_int(fd, SOL_PACKET, PACKET_AUXDATA, 1);  // the original length, beyond a truncation

  sockaddr_ll all{};
  all.sll_family = AF_PACKET;
  all.sll_protocol = htons(ETH_P_ALL);
  all.sll_ifindex = 0;  // every interface
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&all), sizeof all) != 0)
    return unexpected<error>(socket_error("bind", errno));
  return tap;
}

result<void> wire_tap::start() {
  const std::lock_guard guard(close_mu_);
  if (fd_ < 0 || reader_.joinable()) return {};
  try {
    reader_ = std::thread([this] { run(); });
  } catch (const std::system_error& e) {
    return fail("capture-thread", std::string("cannot start the wire-egress capture thread: ") + e.what());
  }
  return {};
}

wire_tap::wire_tap(int fd, int wake_fd, packet_fn on_packet, std::chrono::milliseconds linger)
    : on_packet_(std::move(on_packet)), linger_(linger), fd_(fd), wake_fd_(wake_fd) {}

wire_tap::~wire_tap() { close(); }

// --- the registry -----------------------------------------------------------

void wire_tap::add(const relay::host_conn& c) {
  const auto port = port_of(c);
  if (!port) return;
  const std::lock_guard lk(mu_);
  if (closed_) return;
  bool changed = purge_locked(clock::now());
  const auto [it, inserted] = sockets_.try_emplace(c, entry{c, std::nullopt});
  if (inserted)
    changed |= ++port_refs_[*port] == 1;
  else
    it->second = entry{c, std::nullopt};  // a lingering socket is live again
  if (changed) attach_locked();
}

void wire_tap::remove(const relay::host_conn& c) {
  const std::lock_guard lk(mu_);
  if (closed_) return;
  const auto now = clock::now();
  if (const auto it = sockets_.find(c); it != sockets_.end() && !it->second.linger_until) {
    it->second.linger_until = now + linger_;
    lingering_.emplace_back(now + linger_, c);
  }
  if (purge_locked(now)) attach_locked();
}

bool wire_tap::purge_locked(clock::time_point now) {
  bool changed = false;
  while (!lingering_.empty() && lingering_.front().first <= now) {
    const auto [deadline, conn] = lingering_.front();
    lingering_.pop_front();
    const auto it = sockets_.find(conn);
    // Re-added since, or removed again later (a later deadline is queued).
    if (it == sockets_.end() || it->second.linger_until != deadline) continue;
    sockets_.erase(it);
    const auto port = port_of(conn);
    if (const auto ref = port_refs_.find(*port); ref != port_refs_.end() && --ref->second == 0) {
      port_refs_.erase(ref);
      changed = true;
    }
  }
  return changed;
}

void wire_tap::attach_locked() {
  wire_ports ports;
  for (const auto& [key, refs] : port_refs_) {
    switch (key.first) {
      case packet::proto_tcp: ports.tcp.push_back(key.second); break;
      case packet::proto_udp: ports.udp.push_back(key.second); break;
      case packet::proto_icmp: ports.icmp_ids.push_back(key.second); break;
      default: ports.icmpv6_ids.push_back(key.second); break;
    }
  }
  // The kernel charges the program (and, while swapping, the old one too)
  // to the socket's option memory: on ENOMEM, try a coarser program.
  for (std::size_t budget = BPF_MAXINSNS;; budget /= 2) {
    auto filter = build_wire_filter(ports, snap_length, budget);
    const int err = attach(fd_, filter.program);
    if (err == 0) {
      coarse_ = std::move(filter.coarse);
      return;
    }
    if (err != ENOMEM || budget <= smallest_budget) {
      error_ = error{"capture-wire", "cannot update the wire-egress capture filter (" +
                                         std::to_string(filter.program.size()) +
                                         " instructions): " + describe(err)};
      return;
    }
  }
}

std::vector<std::uint8_t> wire_tap::coarse_protocols() const {
  const std::lock_guard lk(mu_);
  return coarse_;
}

std::optional<error> wire_tap::last_error() const {
  const std::lock_guard lk(mu_);
  return error_;
}

std::size_t wire_tap::sockets() const {
  const std::lock_guard lk(mu_);
  return sockets_.size();
}

// --- the reader ---------------------------------------------------------------

void wire_tap::run() {
  // Process signals go to other threads.
  sigset_t all;
  sigfillset(&all);
  sigdelset(&all, SIGSYS);  // synchronous: self-confinement reports a refused call on this thread
  pthread_sigmask(SIG_BLOCK, &all, nullptr);

  std::vector<std::byte> buf(snap_length);
  for (;;) {
    pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    const int rc = ::poll(fds, 2, poll_timeout_ms);
    if (rc < 0 && errno != EINTR) return;  // cannot happen with valid descriptors; never spin
    if ((fds[1].revents & POLLIN) != 0) return;
    if ((fds[0].revents & (POLLIN | POLLERR)) != 0) read_ready(buf);
    const std::lock_guard lk(mu_);
    if (purge_locked(clock::now())) attach_locked();
  }
}

void wire_tap::read_ready(std::vector<std::byte>& buf) {
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec)) + CMSG_SPACE(sizeof(tpacket_auxdata))];
  for (int i = 0; i < packets_per_wake; ++i) {
    sockaddr_ll from{};
    iovec iov{buf.data(), buf.size()};
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    // MSG_TRUNC: the length of the packet even when it did not fit.
    const auto n = ::recvmsg(fd_, &msg, MSG_TRUNC | MSG_DONTWAIT);
    if (n < 0) return;  // EAGAIN: drained; a pending socket error is consumed by the call
    const auto info = read_control(msg);
    const auto captured = std::min(static_cast<std::size_t>(n), buf.size());
    const auto original = info.original_length.value_or(static_cast<std::uint32_t>(n));
    if (from.sll_pkttype != PACKET_OUTGOING && from.sll_pkttype != PACKET_HOST) {
      unmatched_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    deliver(std::span<const std::byte>(buf.data(), captured), original, from.sll_pkttype == PACKET_OUTGOING,
            info.ts_ns.value_or(wall_clock_ns()));
  }
}

void wire_tap::deliver(std::span<const std::byte> packet, std::uint32_t original_length, bool outgoing,
                       std::uint64_t ts_ns) {
  const auto key = wire_socket_of(packet, outgoing);
  std::optional<relay::host_conn> conn;
  if (key) {
    const std::lock_guard lk(mu_);
    if (const auto it = sockets_.find(*key); it != sockets_.end()) conn = it->second.conn;
  }
  if (!conn) {
    unmatched_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  seen_.fetch_add(1, std::memory_order_relaxed);
  on_packet_(ts_ns, packet, original_length, *conn);
}

// --- statistics and closing -------------------------------------------------

void wire_tap::collect_drops_locked() const {
  if (fd_ < 0) return;
  tpacket_stats stats{};
  socklen_t len = sizeof stats;
  // Reading resets the kernel's counters: keep the sum.
  if (::getsockopt(fd_, SOL_PACKET, PACKET_STATISTICS, &stats, &len) == 0) dropped_ += stats.tp_drops;
}

std::uint64_t wire_tap::packets_dropped() const {
  const std::lock_guard lk(stats_mu_);
  collect_drops_locked();
  return dropped_;
}

void wire_tap::close() {
  const std::lock_guard guard(close_mu_);
  if (fd_ < 0) return;
  const std::uint64_t one = 1;
  if (reader_.joinable()) {
    (void)!::write(wake_fd_, &one, sizeof one);
    reader_.join();
  }
  const std::lock_guard lk(mu_);
  closed_ = true;
  const std::lock_guard stats_lk(stats_mu_);
  collect_drops_locked();
  ::close(fd_);
  ::close(wake_fd_);
  fd_ = -1;
  wake_fd_ = -1;
}

}  // namespace netpen::capture
