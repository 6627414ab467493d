// The wire-egress capture point's packet socket (wire_egress_point reads
// through it): an AF_PACKET socket in the host network namespace that sees
// this run's relay host sockets' packets as they really cross the host's
// interfaces (root / CAP_NET_RAW only).
//
// Theory of operation. The socket is created with protocol 0 (it receives
// nothing), given the match-nothing filter, and only then bound to ETH_P_ALL
// on every interface, so no foreign packet is ever queued. It is SOCK_DGRAM:
// each packet arrives from its IP header on (pcapng LINKTYPE_RAW). The
// relay registers each host socket with add() before its first packet
// leaves; add() rebuilds the classic-BPF program (capture/wire_filter) from
// the registered local ports and attaches it with SO_ATTACH_FILTER before
// returning, so the SYN that follows is seen. remove() keeps the socket
// matched for a linger time (the last ACK, FIN and TIME_WAIT resends), after
// which it is purged and the filter rebuilt; purges happen lazily, on
// add/remove and from the reader every poll timeout.
//
// The kernel filter only knows local ports, so a reader thread double
// checks every packet in userspace: it parses the IP header, names the
// socket by (protocol, local port, remote address, remote port) with the
// direction from sll_pkttype (PACKET_OUTGOING: local = source), and hands
// registered ones to on_packet; the rest are counted as unmatched. If the
// kernel refuses a program (ENOMEM: socket option memory, net.core.
// optmem_max), the tap retries with smaller instruction budgets, i.e. a
// coarser program (see wire_filter), which the double check makes exact.
//
// The reader waits in poll(2) on the socket and an eventfd that close()
// signals; all signals are blocked on it.
#pragma once
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "net/common/error.hpp"
#include "net/relay/egress_observer.hpp"

namespace netpen::capture {

class wire_tap {
 public:
  // Called on the tap's reader thread for each accepted packet: the kernel
  // timestamp (ns since the epoch), the IP packet (from the IP header on,
  // at most snap_length bytes), its original length, and the registered
  // host socket it belongs to. Must not call back into the tap.
  using packet_fn = std::function<void(std::uint64_t ts_ns, std::span<const std::byte> ip_packet,
                                       std::uint32_t original_length, const relay::host_conn& c)>;

  static constexpr std::chrono::milliseconds default_linger{2000};
  static constexpr std::uint32_t snap_length = 256 * 1024;  // also the receive buffer: GSO/GRO super-packets fit

  // Error codes: capture-wire (the socket: EPERM says it needs root or
  // CAP_NET_RAW). Nothing is read until start().
  static result<std::unique_ptr<wire_tap>> open(packet_fn on_packet,
                                                std::chrono::milliseconds linger = default_linger);
  // Starts the reader thread (idempotent; after netpen forked the sandbox:
  // no thread may exist at that fork). Error code: capture-thread.
  result<void> start();

  wire_tap(const wire_tap&) = delete;
  wire_tap& operator=(const wire_tap&) = delete;
  ~wire_tap();  // close()

  // Thread-safe. The filter matches `c` when add() returns; adding a socket
  // again (also while it lingers) keeps one entry with the newer fields.
  void add(const relay::host_conn& c);
  // Thread-safe. `c` stays matched for the linger time, then is dropped.
  void remove(const relay::host_conn& c);
  // Stops the reader and closes the socket. Idempotent, thread-safe.
  void close();

  std::uint64_t packets_seen() const { return seen_.load(std::memory_order_relaxed); }  // given to on_packet
  // Passed by the kernel filter but not a registered socket (coarse
  // filter, port shared with an unregistered socket, purged meanwhile).
  std::uint64_t packets_unmatched() const { return unmatched_.load(std::memory_order_relaxed); }
  // Dropped by the kernel: the receive buffer was full (PACKET_STATISTICS).
  std::uint64_t packets_dropped() const;
  // Protocols whose packets the current filter passes whatever their port.
  std::vector<std::uint8_t> coarse_protocols() const;
  // The last failure to attach a filter (code capture-wire), if any.
  std::optional<error> last_error() const;
  // Registered sockets, lingering ones included (for tests and stats).
  std::size_t sockets() const;

 private:
  using clock = std::chrono::steady_clock;
  struct entry {
    relay::host_conn conn;
    std::optional<clock::time_point> linger_until;
  };
  using port_key = std::pair<std::uint8_t, std::uint16_t>;  // protocol, local port

  wire_tap(int fd, int wake_fd, packet_fn on_packet, std::chrono::milliseconds linger);
  void run();  // the reader thread
  void read_ready(std::vector<std::byte>& buf);
  void deliver(std::span<const std::byte> packet, std::uint32_t original_length, bool outgoing,
               std::uint64_t ts_ns);
  bool purge_locked(clock::time_point now);  // true when a port left the filter's sets
  void attach_locked();
  void collect_drops_locked() const;

  const packet_fn on_packet_;
  const std::chrono::milliseconds linger_;
  int fd_;
  int wake_fd_;

  mutable std::mutex mu_;  // the registry and the attached filter
  std::unordered_map<relay::host_conn, entry, relay::host_conn_hash, relay::host_conn_same> sockets_;
  std::map<port_key, std::size_t> port_refs_;  // registered sockets per local port
  std::deque<std::pair<clock::time_point, relay::host_conn>> lingering_;  // in deadline order
  std::vector<std::uint8_t> coarse_;
  std::optional<error> error_;
  bool closed_ = false;

  mutable std::mutex stats_mu_;  // reading PACKET_STATISTICS resets it
  mutable std::uint64_t dropped_ = 0;

  std::atomic<std::uint64_t> seen_{0};
  std::atomic<std::uint64_t> unmatched_{0};

  std::mutex close_mu_;
  std::thread reader_;
};

}  // namespace netpen::capture
