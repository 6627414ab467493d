// A persistent sandbox's --interactive approver (see sandbox_approver.hpp).
#include "app/sandboxes/sandbox_approver.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <thread>

#include "app/sandboxes/exec_attribution.hpp"
#include "app/sandboxes/question_codec.hpp"
#include "net/common/log.hpp"

namespace netpen::app::sandboxes {
namespace {

using policy::approval;
using steady = std::chrono::steady_clock;

// A stuck client does not hold a flow for ever: its own countdown plus this.
constexpr std::chrono::seconds client_grace{5};

bool same_destination(const policy::approval_request& a, const policy::approval_request& b) {
  return a.protocol == b.protocol && a.address == b.address && a.port == b.port;
}

}  // namespace

sandbox_approver::sandbox_approver(std::chrono::seconds timeout, send_fn send)
    : timeout_(timeout), send_(std::move(send)), wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

void sandbox_approver::ask(policy::approval_request request, std::function<void(approval)> done) {
  {
    const std::lock_guard lk(mu_);
    if (!closing_) {
      inbox_.push_back({std::move(request), std::move(done)});
      const std::uint64_t one = 1;
      (void)::write(wake_.get(), &one, sizeof one);
      return;
    }
  }
  std::thread([d = std::move(done)] { d(approval::deny); }).detach();  // never from inside ask()
}

void sandbox_approver::exec_spawned(std::uint64_t exec, int client_fd, bool tty, pid_t sandbox_pid) {
  execs_[exec] = {client_fd, tty, sandbox_pid};
}

void sandbox_approver::exec_ended(std::uint64_t exec, bool command_over) {
  if (command_over)
    execs_.erase(exec);  // its pid may be reused
  else if (auto e = execs_.find(exec); e != execs_.end())
    e->second.client_fd = -1;
  for (auto it = open_.begin(); it != open_.end();) {
    auto next = std::next(it);
    if (it->second.exec == exec) answer(it, approval::unasked);
    it = next;
  }
}

void sandbox_approver::on_wake(pid_t init_pid) {
  std::uint64_t count = 0;
  (void)::read(wake_.get(), &count, sizeof count);
  std::vector<incoming> questions;
  {
    const std::lock_guard lk(mu_);
    questions.swap(inbox_);
  }
  // Commands whose client went away keep their entry (client_fd -1) until they end.
  std::map<pid_t, std::uint64_t> exec_by_sandbox_pid;
  for (const auto& [id, e] : execs_) exec_by_sandbox_pid[e.sandbox_pid] = id;
  for (auto& q : questions) {
    const auto exec = q.request.pid > 0 ? exec_of(q.request.pid, init_pid, read_process_link, exec_by_sandbox_pid)
                                        : std::nullopt;
    const auto e = exec ? execs_.find(*exec) : execs_.end();
    if (e == execs_.end() || !e->second.tty || e->second.client_fd < 0) {
      log::info("--interactive: nobody to ask about {} ({}): denied", q.request.destination,
                e == execs_.end() ? "no exec of the sandbox owns the process" : "its exec has no terminal");
      q.done(approval::unasked);
      continue;
    }
    route_to(*exec, e->second.client_fd, std::move(q));
  }
}

void sandbox_approver::route_to(std::uint64_t exec, int client_fd, incoming q) {
  for (auto& [id, o] : open_) {
    if (o.exec == exec && same_destination(o.request, q.request)) {
      o.waiters.push_back(std::move(q.done));
      return;
    }
  }
  const std::uint64_t id = next_id_++;
  send_(client_fd, encode_question({id, static_cast<int>(timeout_.count()), q.request}));
  auto& o = open_[id];
  o.exec = exec;
  o.request = std::move(q.request);
  o.waiters.push_back(std::move(q.done));
  // The client asks its questions one after the other: each may wait for those before it.
  std::size_t before = 0;
  for (const auto& [other, p] : open_) before += p.exec == exec ? 1 : 0;
  o.deadline = steady::now() + (timeout_ + client_grace) * static_cast<long>(before);
}

void sandbox_approver::on_answer(int client_fd, std::string_view wire) {
  const auto a = decode_answer(wire);
  if (!a) return;
  const auto it = open_.find(a->id);
  if (it == open_.end()) return;
  const auto e = execs_.find(it->second.exec);
  if (e == execs_.end() || e->second.client_fd != client_fd) return;  // only the asked client answers
  answer(it, a->what);
}

int sandbox_approver::ms_to_next_deadline() const {
  if (open_.empty()) return -1;
  auto next = steady::time_point::max();
  for (const auto& [id, o] : open_) next = std::min(next, o.deadline);
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(next - steady::now()).count();
  return ms <= 0 ? 0 : static_cast<int>(std::min<long long>(ms, 60000));
}

void sandbox_approver::expire() {
  const auto now = steady::now();
  for (auto it = open_.begin(); it != open_.end();) {
    auto next = std::next(it);
    if (it->second.deadline <= now) answer(it, approval::timeout);
    it = next;
  }
}

void sandbox_approver::close() {
  std::vector<incoming> questions;
  {
    const std::lock_guard lk(mu_);
    closing_ = true;
    questions.swap(inbox_);
  }
  for (auto& q : questions) q.done(approval::deny);
  while (!open_.empty()) answer(open_.begin(), approval::deny);
}

void sandbox_approver::answer(std::map<std::uint64_t, open_question>::iterator it, approval a) {
  auto waiters = std::move(it->second.waiters);
  open_.erase(it);
  for (auto& w : waiters) w(a);
}

}  // namespace netpen::app::sandboxes
