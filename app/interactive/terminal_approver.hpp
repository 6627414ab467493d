// The --interactive approver: asks about each undecided destination on the
// controlling terminal.
//
// Theory of operation. One worker thread serves a FIFO of questions, one at
// a time; a question for a destination (protocol, address, port) that is
// already queued or being asked joins it, and all its waiters get the one
// answer. Every signal is blocked in the worker, so SIGTTIN / SIGTTOU never
// stop it and it may call tcsetpgrp from the background.
//
// For each question the worker borrows the terminal: it notes the
// foreground group, makes netpen's own group the foreground (when another
// group, normally the command's, has it), saves the settings and switches
// to single unechoed keys, then prints the prompt and waits for a key, the
// deadline (the countdown is redrawn every second) or close(). Afterwards it
// restores the settings, gives the terminal back, continues that group (the
// command may have stopped on SIGTTIN while netpen had the terminal;
// rootless_sandbox ignores that stop, see terminal_recently_borrowed()),
// prints the outcome and only then calls the waiters. When the fd is not
// the controlling terminal (tcgetpgrp fails, as for a test's pty) the
// foreground steps are skipped.
#pragma once
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "backends/common/unique_fd.hpp"
#include "net/common/error.hpp"
#include "net/policy/approval.hpp"

namespace netpen::app::interactive {

class terminal_approver final : public policy::approver {
 public:
  // Opens /dev/tty; without one: error "usage" ("--interactive needs a terminal: ...").
  static result<std::unique_ptr<terminal_approver>> open(std::chrono::seconds timeout);
  // Asks on `tty` (owned), denying after `timeout` without an answer.
  // Questions wait until start() gives it its worker thread.
  terminal_approver(backends::unique_fd tty, std::chrono::seconds timeout);
  // Starts the worker (idempotent). Separate from construction so that the
  // terminal is checked before netpen forks the sandbox and the thread
  // starts after: no thread may exist at that fork.
  result<void> start();
  ~terminal_approver() override;
  terminal_approver(const terminal_approver&) = delete;
  terminal_approver& operator=(const terminal_approver&) = delete;

  void ask(policy::approval_request request, std::function<void(policy::approval)> done) override;
  // Stops the worker (an open question is abandoned with the terminal
  // restored) and denies every pending question. Idempotent; also run by
  // the destructor. Later ask()s are denied at once, from another thread.
  void close();

 private:
  struct question {
    policy::approval_request request;
    std::vector<std::function<void(policy::approval)>> waiters;
  };

  void run();
  bool wait_for_question(std::unique_lock<std::mutex>& lk);
  question* queued_for(const policy::approval_request& request);
  void answer_front(std::unique_lock<std::mutex>& lk, policy::approval answer);
  void deny_all(std::unique_lock<std::mutex>& lk);

  backends::unique_fd tty_;
  backends::unique_fd wake_;  // eventfd: close() interrupts the open question
  std::chrono::seconds timeout_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<question> queue_;  // the front is the one being asked (or next)
  bool closing_ = false;
  std::mutex join_mu_;  // close() from two threads joins once
  std::thread worker_;
};

}  // namespace netpen::app::interactive
