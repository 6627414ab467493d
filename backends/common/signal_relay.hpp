// Parent-side signal relay: the signals netpen passes on to the command
// tree (INT, TERM, HUP, QUIT, USR1, USR2, WINCH) are blocked in netpen before
// any thread exists, so no thread ever handles them asynchronously; the main
// thread then waits for them (signalfd) and for the sandbox process (pidfd)
// together, forwarding each signal until that process has exited.
#pragma once
#include <signal.h>
#include <sys/types.h>

#include <functional>
#include <optional>

namespace netpen::backends {

// The forwarded set.
sigset_t forwarded_signals();

// Blocks the forwarded set in the calling thread (threads created later
// inherit the mask); restore() puts the previous mask back.
class forwarded_signal_block {
 public:
  forwarded_signal_block();
  ~forwarded_signal_block() = default;
  forwarded_signal_block(const forwarded_signal_block&) = delete;
  forwarded_signal_block& operator=(const forwarded_signal_block&) = delete;
  void restore();
  const sigset_t& previous_mask() const { return previous_; }

 private:
  sigset_t previous_{};
  bool active_ = false;
};

// What `on_extra` made of a readable `extra_fd`.
enum class extra_outcome {
  keep_watching,
  stop_watching,  // e.g. at EOF
  announced_exit  // the process said it is about to exit (its status with it)
};

// Forwards the blocked signals to `pid` until the process behind `pidfd`
// exits, reaps it and returns its shell-style status (exit code, or 128+N
// when killed by signal N). When `extra_fd` >= 0, `on_extra` runs each time
// it is readable; when it answers announced_exit the wait ends at once with
// nullopt and the process is NOT reaped (the caller knows the status and
// reaps it later, so that its own tear-down overlaps the process's exit).
std::optional<int> relay_signals_until_exit(pid_t pid, int pidfd, int extra_fd = -1,
                                            const std::function<extra_outcome()>& on_extra = {});

// Shell-style status of a waitpid() status word.
int shell_status(int wait_status);

}  // namespace netpen::backends
