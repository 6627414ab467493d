// The --interactive prompt of `netpen exec` (a sandbox made with
// `create --interactive`): the daemon's questions about this exec's
// flows, asked on the client's own terminal.
//
// Theory of operation. The client's terminal is in raw mode (it relays a
// pty), so the prompt writes "\r\n" line ends itself. Questions queue and
// are asked one at a time: while one is shown, the client feeds the keys
// typed to on_keys() instead of the pty, holds the pty's output back (it
// would run over the prompt), and calls on_tick() when tick_ms() passes so
// the countdown is redrawn; at the deadline the answer is `timeout`. The
// keys and the words are those of a run's prompt (app/interactive/
// prompt_text.hpp); the outcome line replaces the choices. Each answer is
// handed to `send` as the wire message for the daemon.
#pragma once
#include <chrono>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "app/sandboxes/question_codec.hpp"

namespace netpen::app::sandboxes {

class exec_prompt {
 public:
  exec_prompt(int terminal, std::function<void(std::string_view)> send) : out_(terminal), send_(std::move(send)) {}

  void add(question q);
  bool asking() const { return shown_.has_value(); }
  // ms until the countdown changes (-1: nothing shown).
  int tick_ms() const;
  void on_tick();
  void on_keys(std::string_view keys);
  // The client is ending: what is still open is answered `unasked`.
  void abandon();

 private:
  using steady = std::chrono::steady_clock;
  void show_next();
  void show_question();
  void settle(policy::approval a);
  std::chrono::seconds left() const;

  int out_;
  std::function<void(std::string_view)> send_;
  std::deque<question> waiting_;
  std::optional<question> shown_;
  steady::time_point deadline_;
};

}  // namespace netpen::app::sandboxes
