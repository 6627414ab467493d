// The capture point `egress`: the tree's flows as they leave the host, with
// the host's addresses, rebuilt by egress_synth from what each relay host
// socket reported (the relay's egress observer). Rootless: no packet socket
// is needed. Frames go to one capture_file, interface 0, each commented
// with its flow's process when known. Calls from several flow strands are
// serialised by one mutex.
#pragma once
#include <mutex>

#include "capture/capture_file.hpp"
#include "capture/egress_synth.hpp"
#include "capture/flow_comments.hpp"
#include "net/relay/egress_observer.hpp"

namespace netpen::capture {

class egress_point : public relay::egress_observer, private synth_sink {
 public:
  egress_point(capture_file& file, const flow_comments& comments)
      : file_(file), comments_(comments), synth_(*this) {}

  void opened(const relay::host_conn& c) override;
  void connected(const relay::host_conn& c) override;
  void data(const relay::host_conn& c, relay::host_direction d, std::span<const asio::const_buffer> buffers,
            std::size_t n) override;
  void fin(const relay::host_conn& c, relay::host_direction d) override;
  void closed(const relay::host_conn& c, relay::host_close how) override;

  static interface_info interface();

 private:
  void frame(const relay::host_conn& c, std::uint64_t timestamp_ns,
             std::span<const std::span<const std::byte>> pieces) override;

  capture_file& file_;
  const flow_comments& comments_;
  std::mutex mutex_;
  egress_synth synth_;
};

}  // namespace netpen::capture
