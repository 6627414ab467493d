// `netpen create --interactive`: the approver of a persistent sandbox. It
// asks on the terminal of the exec whose command tree the flow's owner
// belongs to (exec_attribution.hpp), through that exec's control socket
// (question_codec.hpp); the exec's client shows the prompt (exec_client.cpp).
//
// Theory of operation. ask() (the relay's thread) only queues the question
// and wakes the daemon through an eventfd. The daemon's loop, single
// threaded, then owns everything else:
//   - on_wake() attributes each queued question to an exec and sends it to
//     that exec's client; a question for a destination that the same exec
//     is already asked about joins it. A question that no exec with a
//     terminal can take (its exec has no pty, its client went away or its
//     command ended, or the owner is unknown or an orphan) is answered
//     `unasked` at once: fail closed, and the flow's denial says why;
//   - on_answer() hands a client's answer to the question's waiters;
//   - an exec that ends or whose client goes away gets its open questions
//     answered `unasked`; a question unanswered for --prompt-timeout plus a
//     grace (a stuck client) is answered `timeout` by expire();
//   - close() answers everything open `deny`; later ask()s are denied at once
//     from a thread of their own (never from inside ask()).
// Several execs are asked at once, each on its own terminal; one exec's
// client asks its questions one at a time.
#pragma once
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "backends/common/unique_fd.hpp"
#include "net/policy/approval.hpp"

namespace netpen::app::sandboxes {

class sandbox_approver final : public policy::approver {
 public:
  using send_fn = std::function<void(int client_fd, std::string_view message)>;
  sandbox_approver(std::chrono::seconds timeout, send_fn send);

  // Any thread.
  void ask(policy::approval_request request, std::function<void(policy::approval)> done) override;

  // The daemon's thread only.
  int wake_fd() const { return wake_.get(); }
  void exec_spawned(std::uint64_t exec, int client_fd, bool tty, pid_t sandbox_pid);
  // Its client went away (command_over false: the command may live on,
  // without a terminal) or its command ended.
  void exec_ended(std::uint64_t exec, bool command_over);
  void on_wake(pid_t init_pid);
  void on_answer(int client_fd, std::string_view wire);
  int ms_to_next_deadline() const;  // -1: none
  void expire();
  void close();

 private:
  using waiter = std::function<void(policy::approval)>;
  struct incoming {
    policy::approval_request request;
    waiter done;
  };
  struct exec_terminal {
    int client_fd = -1;  // -1: the client went away
    bool tty = false;
    pid_t sandbox_pid = 0;
  };
  struct open_question {
    std::uint64_t exec = 0;
    policy::approval_request request;
    std::vector<waiter> waiters;
    std::chrono::steady_clock::time_point deadline;
  };

  void route_to(std::uint64_t exec, int client_fd, incoming q);
  void answer(std::map<std::uint64_t, open_question>::iterator it, policy::approval a);

  std::chrono::seconds timeout_;
  send_fn send_;
  backends::unique_fd wake_;
  std::mutex mu_;  // guards inbox_ and closing_
  std::vector<incoming> inbox_;
  bool closing_ = false;
  std::map<std::uint64_t, exec_terminal> execs_;
  std::map<std::uint64_t, open_question> open_;  // by question id
  std::uint64_t next_id_ = 1;
};

}  // namespace netpen::app::sandboxes
