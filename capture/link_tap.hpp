// The rootful backend's `child` capture point: an AF_PACKET socket bound to
// the host end of the run's veth pair, so it sees exactly the tree's frames
// (everything on that link is the tree's), whole, both ways. A reader
// thread hands each frame to the capture's frame_observer: PACKET_OUTGOING
// (the host sent it into the veth) is to_child, anything else from_child.
// The reader is an fd_reader, started by open() (netpen opens this after it
// forked the sandbox); root (CAP_NET_RAW) only.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "capture/fd_reader.hpp"
#include "net/common/error.hpp"
#include "net/relay/frame_observer.hpp"

namespace netpen::capture {

class link_tap {
 public:
  // Opens and binds the socket before returning, so no later frame is missed.
  static result<std::unique_ptr<link_tap>> open(const std::string& interface, relay::frame_observer& observer);
  ~link_tap();  // close()
  link_tap(const link_tap&) = delete;
  link_tap& operator=(const link_tap&) = delete;

  // Reads what is already queued, then stops the reader. Idempotent.
  void close();

 private:
  link_tap(int fd, relay::frame_observer& observer);
  void drain();  // the reader thread
  int fd_;
  relay::frame_observer& observer_;
  std::vector<std::byte> buf_;
  std::unique_ptr<fd_reader> reader_;
};

}  // namespace netpen::capture
