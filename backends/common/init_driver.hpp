// The parent's side of the sandbox init, shared by both backends (the init
// itself, running inside the new namespaces, is sandbox_init.hpp):
// start_init() clones the init into the given namespaces with the control
// channel, and init_driver drives it through setup, launch and wait (signals
// forwarded, job control), killing and reaping it when abandoned.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "backends/common/sandbox_init.hpp"
#include "backends/common/signal_relay.hpp"
#include "backends/common/socket_helper.hpp"
#include "backends/common/terminal.hpp"
#include "backends/common/unique_fd.hpp"
#include "backends/sandbox.hpp"

namespace netpen::backends {

struct started_init {
  pid_t pid = -1;
  unique_fd pidfd, control;
  unique_fd sockets;  // the socket helper's channel (spec.socket_helper), else empty
  bool unix_guard = false;  // spec.unix_guard: launch() takes the guard's fds
  terminal_state term;
};

// Blocks the forwarded signals (before any thread exists), creates the
// control channel and clones the init with CLONE_PIDFD | `namespaces`; the
// init runs `setup` once the parent sends msg_maps_ready. `clone_error`
// turns clone3's errno into the error to report.
result<started_init> start_init(const sandbox_spec& spec, std::uint64_t namespaces, init_setup setup,
                                error (*clone_error)(int));

// Kills and reaps a half-built sandbox init (setup failed).
void abandon(pid_t pid);

class init_driver : public sandbox {
 public:
  explicit init_driver(started_init init);
  ~init_driver() override;

  result<void> wait_ready() override;
  int link_fd() const override { return handed_.get(); }
  int release_link_fd() override { return handed_.release(); }
  std::vector<unique_fd> take_host_port_listeners() override { return std::move(listeners_); }
  pid_t init_pid() const override { return pid_; }
  int socket_inside(int family, int type) override { return sockets_.request(family, type); }
  result<void> launch() override;
  int wait() override;
  int control_fd() const override { return control_.get(); }
  int init_pidfd() const override { return pidfd_.get(); }
  unix_guard_fds take_unix_guard() override { return std::move(guard_); }

 protected:
  // Ends the init now (SIGKILL) and reaps it, unless it already ended.
  void terminate();

 private:
  extra_outcome on_control();
  void reap_exiting();
  result<void> take_guard_fds();
  void kill_and_reap();

  pid_t pid_;
  unique_fd pidfd_, control_, handed_;
  std::vector<unique_fd> listeners_;  // --host-port, from the init before "ok"
  socket_requester sockets_;
  terminal_state term_;
  bool ready_ = false;  // wait_ready() succeeded (the fd may since have been released)
  bool launched_ = false;
  std::optional<int> status_;  // known once the init exited or announced its exit
  bool reaped_ = false;
  bool unix_guard_ = false;
  unix_guard_fds guard_;
};

}  // namespace netpen::backends
