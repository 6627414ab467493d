// The tree's capture at the tap boundary (-C child): every frame the child
// sent or received, as Ethernet with nanosecond timestamps, in one pcapng
// file. It is both the relay's frame observer and an event consumer: a DNS
// answer becomes a Name Resolution Block (queued before the packets that
// use it), and once a flow's process is known each of the flow's packets
// carries a comment naming it ("pid 4242 (sandbox pid 2): curl -s ...").
// Memory is bounded by capture_file's queue; frames beyond it are counted
// as dropped.
#pragma once
#include <sys/types.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "capture/capture_file.hpp"
#include "net/common/error.hpp"
#include "net/events/event.hpp"
#include "net/relay/flow_key.hpp"
#include "net/relay/frame_observer.hpp"

namespace netpen::capture {

class tree_capture : public relay::frame_observer {
 public:
  // `run_description`: the SHB comment (command, backend, options; no secrets).
  static result<std::unique_ptr<tree_capture>> open(const std::string& path, const std::string& run_description,
                                                    std::optional<std::pair<uid_t, gid_t>> owner);

  void frame(relay::frame_direction d, std::span<const std::byte> head, std::span<const std::byte> p0,
             std::span<const std::byte> p1) override;  // any thread
  void on_event(const events::event& e);                // the events strand

  void close();
  std::uint64_t packets_written() const { return file_->packets_written(); }
  std::uint64_t packets_dropped() const { return file_->packets_dropped(); }
  std::optional<error> last_error() const { return file_->last_error(); }
  const std::string& path() const { return file_->path(); }

 private:
  explicit tree_capture(std::unique_ptr<capture_file> file) : file_(std::move(file)) {}
  std::unique_ptr<capture_file> file_;
  std::mutex mutex_;
  std::unordered_map<relay::flow_key, std::string, relay::flow_key_hash> comments_;  // child's view -> comment
};

}  // namespace netpen::capture
