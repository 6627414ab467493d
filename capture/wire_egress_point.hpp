// The capture point `wire-egress`: the tree's flows as the host's own
// interfaces carry them, read from an AF_PACKET socket (root only) whose
// kernel filter passes only this run's relay host sockets (wire_tap). As
// the relay's egress observer it registers each socket before its first
// packet leaves and lets it go when it closes. Packets are raw IP (LINKTYPE
// 101) with kernel timestamps, each commented with its flow's process when
// known.
#pragma once
#include <atomic>
#include <memory>

#include "capture/capture_file.hpp"
#include "capture/flow_comments.hpp"
#include "capture/wire_tap.hpp"
#include "net/common/error.hpp"
#include "net/relay/egress_observer.hpp"

namespace netpen::capture {

class wire_egress_point : public relay::egress_observer {
 public:
  // Opens the packet socket (fails without CAP_NET_RAW: code capture-wire).
  // Packets are written once attach() gave the file; none can arrive
  // before the first opened().
  static result<std::unique_ptr<wire_egress_point>> open(const flow_comments& comments);
  void attach(capture_file& file) { file_.store(&file, std::memory_order_release); }
  result<void> start() { return tap_->start(); }  // the reader thread

  void opened(const relay::host_conn& c) override { tap_->add(c); }
  void connected(const relay::host_conn&) override {}
  void data(const relay::host_conn&, relay::host_direction, std::span<const asio::const_buffer>,
            std::size_t) override {}
  void fin(const relay::host_conn&, relay::host_direction) override {}
  void closed(const relay::host_conn& c, relay::host_close) override { tap_->remove(c); }

  // Stops reading (the file is closed by its owner afterwards).
  void close() { tap_->close(); }
  std::uint64_t packets_dropped() const { return tap_->packets_dropped(); }
  std::optional<error> last_error() const { return tap_->last_error(); }

  static interface_info interface();

 private:
  explicit wire_egress_point(const flow_comments& comments) : comments_(comments) {}
  void packet(std::uint64_t ts_ns, std::span<const std::byte> ip_packet, std::uint32_t original_length,
              const relay::host_conn& c);

  const flow_comments& comments_;
  std::atomic<capture_file*> file_{nullptr};
  std::unique_ptr<wire_tap> tap_;
};

}  // namespace netpen::capture
