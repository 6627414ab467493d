// The run's capture: the pcapng file(s) of one capture point, fed by the
// relay (frames at the tap, host sockets at egress) and by the event stream
// (DNS answers become Name Resolution Blocks, flow opens name each flow's
// process in its packets' comments).
//
//   child        PATH            the tap (child_point)
//   egress       PATH            rebuilt host side (egress_point)
//   wire-egress  PATH            host interfaces, AF_PACKET (wire_egress_point; root)
//   both         BASE.child.pcapng and BASE.egress.pcapng, BASE = PATH
//                without a trailing ".pcapng"
//
// Under --root (`kernel_forwarded`) the kernel forwards the tree's flows and
// netpen has no host sockets for them: `egress` and `wire-egress` are the
// same file: the packets the run's host table logs to NFLOG as they cross
// the host's other interfaces (rootful_egress_point; log_group() is the
// group the table must use), plus those of any host socket the engine
// itself opens for the tree (proxy mode), read as at wire-egress
// (wire_egress_point). The child point is fed by the veth's link_tap.
//
// Every file has the same Section Header (netpen's name and version, the run
// described without secrets) and one Interface Description. Memory is
// bounded by each capture_file's queue; packets beyond it are counted as
// dropped.
#pragma once
#include <sys/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "capture/capture_file.hpp"
#include "capture/child_point.hpp"
#include "capture/egress_point.hpp"
#include "capture/flow_comments.hpp"
#include "capture/rootful_egress_point.hpp"
#include "capture/wire_egress_point.hpp"
#include "net/common/error.hpp"
#include "net/events/event.hpp"

namespace netpen::capture {

enum class point { child, egress, wire_egress, both };

class tree_capture {
 public:
  // Opens and writes the headers only: start() starts the threads.
  // Error codes: those of capture_file::create, wire_tap::open and
  // rootful_egress_point::open.
  static result<std::unique_ptr<tree_capture>> open(const std::string& path, point at,
                                                    const std::string& run_description,
                                                    std::optional<std::pair<uid_t, gid_t>> owner,
                                                    bool kernel_forwarded = false);
  // The files `open` writes for `path` at `at`, in order.
  static std::vector<std::string> paths_for(const std::string& path, point at);

  ~tree_capture();

  // Starts the writer and reader threads (after netpen forked the sandbox:
  // no thread may exist at that fork). Error code: capture-thread.
  result<void> start();

  // What the relay feeds: null when this capture has no such point.
  relay::frame_observer* child() { return child_.get(); }
  relay::egress_observer* egress();
  // --root with an egress file: the NFLOG group the run's host table logs to.
  std::optional<std::uint16_t> log_group() const;
  // --root: the tree's addresses, which name its flows in the egress file's
  // comments (before start(); addresses that do not parse are skipped).
  void set_tree(const std::vector<std::string>& addresses);

  // Every file's capture_file::set_on_error (before start()): called at
  // most once per file, on its writer thread, when a write fails.
  void set_on_write_error(const std::function<void(const error&)>& callback);

  void on_event(const events::event& e);  // the events strand
  // Stops the packet sockets ((wire-)egress) and writes out and closes every file.
  void close();

  std::uint64_t packets_written() const;
  std::uint64_t packets_dropped() const;  // queue full, and the kernel's drops at (wire-)egress
  std::vector<error> errors() const;
  const std::vector<std::string>& paths() const { return paths_; }

 private:
  tree_capture() = default;

  std::vector<std::string> paths_;
  std::vector<std::unique_ptr<capture_file>> files_;
  flow_comments comments_;
  std::unique_ptr<child_point> child_;
  std::unique_ptr<egress_point> egress_;
  std::unique_ptr<wire_egress_point> wire_egress_;
  std::unique_ptr<rootful_egress_point> rootful_egress_;
};

}  // namespace netpen::capture
