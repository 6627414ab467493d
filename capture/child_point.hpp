// The capture point `child`: every frame at the tap, as the tree's own
// network stack sent and received it (Ethernet, the sandbox's addresses),
// each packet of a flow whose process is known commented with it. It is the
// relay's frame observer; frames go to one capture_file, interface 0.
#pragma once
#include "capture/capture_file.hpp"
#include "capture/flow_comments.hpp"
#include "net/relay/frame_observer.hpp"

namespace netpen::capture {

class child_point : public relay::frame_observer {
 public:
  child_point(capture_file& file, const flow_comments& comments) : file_(file), comments_(comments) {}
  void frame(relay::frame_direction d, std::span<const std::byte> head, std::span<const std::byte> p0,
             std::span<const std::byte> p1) override;  // any thread

  // The pcapng interface this point's packets belong to.
  static interface_info interface();

 private:
  capture_file& file_;
  const flow_comments& comments_;
};

}  // namespace netpen::capture
