// The capture point `egress` under --root (`wire-egress` is the same file
// there): the tree's kernel-forwarded flows as they leave and enter the host
// through its other interfaces, with the host's addresses (after the
// masquerade on the way out, before it is undone on the way in), each
// direction, TCP, UDP, ICMP and the ICMP errors about them. The run's host
// table logs exactly those packets to an NFLOG group (nft_ruleset: the
// capture chains, keyed on the conntrack entry's original source, the child's
// address, and on not being the veth); this point binds a free group in
// netpen's network namespace before the table exists, and a reader thread
// writes each packet (raw IP, LINKTYPE 101) with its flow's process comment.
// The flow comes from the host's conntrack events (NEW, DESTROY) for the
// tree's addresses (forward_flows): an entry is confirmed just after its
// first packet was logged, so on a miss the events are read again before the
// packet is written. NFLOG never blocks the forwarding path: what the socket
// cannot hold is lost and counted. Root only.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "capture/capture_file.hpp"
#include "capture/fd_reader.hpp"
#include "capture/flow_comments.hpp"
#include "capture/forward_flows.hpp"
#include "net/common/error.hpp"
#include "net/netfilter/netfilter_socket.hpp"

namespace netpen::capture {

class rootful_egress_point {
 public:
  // Binds a free NFLOG group. Error codes: capture-nflog (no group could be
  // bound: not root, no nfnetlink_log, all candidates taken), capture.
  static result<std::unique_ptr<rootful_egress_point>> open(const flow_comments& comments);
  ~rootful_egress_point();  // close()
  rootful_egress_point(const rootful_egress_point&) = delete;
  rootful_egress_point& operator=(const rootful_egress_point&) = delete;

  // The group the run's host table must log to.
  std::uint16_t group() const { return group_; }
  // Packets are written once attach() gave the file.
  void attach(capture_file& file) { file_.store(&file, std::memory_order_release); }
  // The tree's addresses, for the comments (before start()).
  void set_tree(std::vector<packet::ip_address> addresses) { flows_.set_tree(std::move(addresses)); }
  // The reader thread (after the sandbox is forked). Error code: capture-thread.
  result<void> start() { return reader_->start(); }
  // Reads what is queued, then stops. Idempotent.
  void close() { reader_->stop(); }

  // Lost because the socket's buffer was full (each overrun counts one: the
  // kernel does not say how many).
  std::uint64_t packets_dropped() const { return overruns_.load(std::memory_order_relaxed); }
  std::optional<error> last_error() const;

  static interface_info interface();

 private:
  rootful_egress_point(const flow_comments& comments, netfilter::netlink_socket log,
                       netfilter::netlink_socket conntrack, std::uint16_t group);
  void drain();            // the reader thread
  void read_conntrack();   // the reader thread
  std::string comment_for(const relay::host_conn& c);

  const flow_comments& comments_;
  netfilter::netlink_socket socket_;
  netfilter::netlink_socket conntrack_;
  forward_flows flows_;
  const std::uint16_t group_;
  std::unique_ptr<fd_reader> reader_;
  std::atomic<capture_file*> file_{nullptr};
  std::atomic<std::uint64_t> overruns_{0};
  std::atomic<bool> broken_{false};
};

}  // namespace netpen::capture
