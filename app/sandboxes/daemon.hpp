// A persistent sandbox's daemon: the process `netpen create` leaves behind.
// It owns the namespaces (through the sandbox init, its child), the relay,
// the policy, the log and the capture, exactly as a run does (it is the run
// without a command, app/run.hpp's run_persistent), plus the control socket.
//
// Theory of operation. When the sandbox is up, ready() binds the control
// socket in the sandbox's directory, writes the record and tells `create`
// "ok" through the ready pipe. serve() then loops on poll() over the socket,
// its clients, the init's control channel, the init's pidfd and a signalfd:
//   - an exec request is checked against the peer's credentials
//     (SO_PEERCRED: the owner, or a member of the exec group by
//     SO_PEERGROUPS) and handed to the init with the client's fds and who
//     the command runs as; the init's "spawned"/"exited" come back to that
//     client as "started PID"/"exit STATUS", a stop as "stopped SIGNAL";
//   - "signal N" from a client goes to its command's process group; a
//     client that goes away (killed) gets its command a SIGHUP;
//   - "info" answers the number of processes in the sandbox;
//   - with --interactive, the relay's questions are asked on the terminal
//     of the exec whose command tree the flow's owner belongs to, and
//     "answer ..." from that exec's client settles them (sandbox_approver.hpp);
//   - "destroy" (the owner only), SIGTERM/SIGINT to the daemon, or the init
//     dying ends serving: running execs are told, the init is told to stop,
//     and the run's tear-down follows; finish() then removes the directory
//     and answers the destroy callers.
#pragma once
#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/run.hpp"
#include "app/sandboxes/sandbox_approver.hpp"
#include "app/sandboxes/state_dir.hpp"
#include "backends/common/unique_fd.hpp"
#include "backends/sandbox.hpp"

namespace netpen::app::sandboxes {

class sandbox_daemon final : public persistent_hooks {
 public:
  sandbox_daemon(const create_command& cmd, sandbox_dir dir, int ready_fd);

  result<void> ready(backends::sandbox& sandbox, const ready_info& info) override;
  void serve(backends::sandbox& sandbox) override;
  policy::approver* approver() override { return approver_.get(); }

  bool was_ready() const { return ready_sent_; }
  // After the tear-down: removes the directory, answers the destroy callers.
  void finish();

 private:
  struct client {
    backends::unique_fd fd;
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> groups;
    std::optional<std::uint64_t> exec_id;  // its running command
    bool tty = false;                      // the command has the client's pty
  };

  void accept_client();
  bool on_client(client& c);  // false: drop it
  bool on_exec(client& c, std::string_view wire, std::vector<backends::unique_fd>& fds);
  bool on_init();             // false: the init is gone
  bool may_enter(const client& c) const;
  bool is_owner(const client& c) const;
  std::optional<backends::command_identity> identity_for(const client& c, const std::vector<std::string>& env) const;
  void stop();

  create_command cmd_;
  sandbox_dir dir_;
  int ready_fd_;
  bool ready_sent_ = false;
  pid_t init_pid_ = 0;
  std::string backend_;
  std::optional<gid_t> group_;
  backends::unique_fd listener_;
  int init_control_ = -1;
  std::map<int, client> clients_;                    // by fd
  std::map<std::uint64_t, int> execs_;               // exec id -> client fd (-1: client gone)
  std::uint64_t next_id_ = 1;
  struct destroy_caller {
    backends::unique_fd socket, err;  // err: the caller's stderr (may be empty)
  };
  std::vector<destroy_caller> destroy_callers_;
  bool stopping_ = false;
  std::unique_ptr<sandbox_approver> approver_;  // --interactive only
};

// Processes in the sandbox (the init's descendants, the init not counted).
unsigned count_tree(pid_t init_pid);

}  // namespace netpen::app::sandboxes
