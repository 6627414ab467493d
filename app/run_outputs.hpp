// Where a run's events go: the live lines on stderr (--analyse), the JSON
// Lines flow log (--log), the summary (--summary, printed after the command
// ends), the pcapng capture (-o; its observers go to the engine) and
// the learned profile (--learn, written at the end), the warnings everyone sees (proxy failures, denials, errors). One object
// per run, fed on the engine's event strand; finish() ends every output.
//
// An output that cannot be written during the run (a full disk: ENOSPC, an
// I/O error) is said once, when it happens, as `netpen: error: ...` naming
// the file and why; that output stops there and the run goes on (the policy
// is enforced either way, and killing the tree would lose the work the
// user asked for), but the record is incomplete: finish() turns the
// command's status 0 into 1, so a script that relies on the log or the
// capture never takes an incomplete one for a whole one (docs/flow-log.md).
#pragma once
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/learn/profile_learner.hpp"
#include "app/run_config.hpp"
#include "capture/tree_capture.hpp"
#include "net/common/error.hpp"
#include "net/events/attempts.hpp"
#include "net/events/live_lines.hpp"
#include "net/events/run_info.hpp"
#include "net/events/summary.hpp"

namespace netpen::app {

class run_outputs {
 public:
  // Opens the log and the capture (errors before anything is set up).
  static result<std::unique_ptr<run_outputs>> open(const run_config& cfg, events::run_info info);
  // Starts the capture's threads: after the sandbox is forked.
  result<void> start() { return capture_ ? capture_->start() : result<void>{}; }
  static capture::point capture_point_of(capture_point p);
  ~run_outputs();

  void on_event(const events::event& e);  // one thread at a time
  // A flow's claim learned after its flow_open (services_options::on_claim):
  // the capture's comments of its later packets name it. Same thread.
  void on_claim(const events::event& e);
  // What the engine feeds the capture (null without one, or without that point).
  relay::frame_observer* capture_child() { return capture_ ? capture_->child() : nullptr; }
  relay::egress_observer* capture_egress() { return capture_ ? capture_->egress() : nullptr; }
  // --root: the NFLOG group the host table logs the egress capture's packets to.
  std::optional<std::uint16_t> capture_log_group() const { return capture_ ? capture_->log_group() : std::nullopt; }
  // --root: the tree's addresses (before start()), see tree_capture::set_tree.
  void capture_tree(const std::vector<std::string>& addresses) {
    if (capture_) capture_->set_tree(addresses);
  }
  // Denied attempts so far (for --fail-on-leak; events/attempts.hpp).
  std::uint64_t denied() const { return attempts_.count(); }
  // After the engine stopped: the log's last record, the summary, the
  // capture closed. Returns the status netpen exits with: `exit_status`,
  // or 1 instead of 0 when the flow log or the capture is incomplete.
  int finish(int exit_status);

 private:
  run_outputs() = default;
  void write_log_line(const std::string& line);
  void write_learned_profile();

  events::run_info info_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::optional<events::live_formatter> live_;
  std::FILE* log_ = nullptr;
  std::string log_path_;
  bool log_failed_ = false;                   // the events strand, then finish()
  std::atomic<bool> capture_failed_{false};   // set on a capture writer thread
  std::optional<events::summary_builder> summary_;
  output_format summary_format_ = output_format::text;
  std::unique_ptr<capture::tree_capture> capture_;
  std::optional<learn::profile_learner> learner_;  // --learn
  std::string learn_path_;
  bool finished_ = false;
  events::attempt_counter attempts_;
};

// The status a run exits with when an output was left incomplete: the
// command's own, except that 0 becomes 1 (as --fail-on-leak does).
inline int status_with_outputs(int command_status, bool outputs_incomplete) {
  return outputs_incomplete && command_status == 0 ? 1 : command_status;
}

// The invoking user when netpen runs as root for someone (SUDO_UID/SUDO_GID).
std::optional<std::pair<uid_t, gid_t>> invoking_user();

}  // namespace netpen::app
