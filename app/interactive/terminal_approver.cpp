// The --interactive approver on the terminal (theory of operation in
// terminal_approver.hpp).
#include "app/interactive/terminal_approver.hpp"
#include "backends/common/write_all.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "app/interactive/prompt_text.hpp"
#include "backends/common/terminal.hpp"
#include "net/common/log_hold.hpp"

namespace netpen::app::interactive {
namespace {

using backends::write_all;
using policy::approval;
using policy::approval_request;
using std::chrono::milliseconds;
using std::chrono::seconds;
using steady = std::chrono::steady_clock;

constexpr std::string_view clear_line = "\r\x1b[K";  // to column 0, erase the line
constexpr char escape = '\x1b';

bool same_destination(const approval_request& a, const approval_request& b) {
  return a.protocol == b.protocol && a.address == b.address && a.port == b.port;
}

// The width a prompt line may use (the last column is left free, as some
// terminals wrap on it); 0 when unknown.
std::size_t usable_columns(int fd) {
  winsize ws{};
  if (::ioctl(fd, TIOCGWINSZ, &ws) != 0 || ws.ws_col < 2) return 0;
  return ws.ws_col - 1U;
}

// Borrows the terminal for one question; everything is undone, in reverse,
// on destruction.
class borrowed_terminal {
 public:
  explicit borrowed_terminal(int fd) : fd_(fd) {
    take_foreground();
    read_single_keys();
  }
  ~borrowed_terminal() {
    if (saved_) ::tcsetattr(fd_, TCSANOW, &*saved_);
    give_back();
  }
  borrowed_terminal(const borrowed_terminal&) = delete;
  borrowed_terminal& operator=(const borrowed_terminal&) = delete;

 private:
  // Skipped when the fd is not our controlling terminal or we already are
  // the foreground. The calling thread blocks SIGTTOU, so this works from
  // the background.
  void take_foreground() {
    const pid_t foreground = ::tcgetpgrp(fd_);
    const pid_t own = ::getpgrp();
    if (foreground <= 0 || foreground == own) return;
    backends::note_terminal_borrowed(true);
    if (::tcsetpgrp(fd_, own) == 0)
      previous_ = foreground;
    else
      backends::note_terminal_borrowed(false);
  }

  // Non-canonical, no echo, one key at a time. TCSAFLUSH drops keys typed
  // before the prompt appeared: only a key pressed for it answers it.
  void read_single_keys() {
    termios t{};
    if (::tcgetattr(fd_, &t) != 0) return;
    saved_ = t;
    t.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    (void)::tcsetattr(fd_, TCSAFLUSH, &t);
  }

  // The command may have stopped on SIGTTIN meanwhile: continue its group.
  void give_back() {
    if (previous_ <= 0) return;
    (void)::tcsetpgrp(fd_, previous_);
    ::kill(-previous_, SIGCONT);
    backends::note_terminal_borrowed(false);
  }

  int fd_;
  pid_t previous_ = -1;
  std::optional<termios> saved_;
};

// Where the terminal's cursor is, asked with "ESC [ 6n" (the borrowed
// terminal reads single keys, so the report arrives as input); nullopt when
// no report came within cursor_report_wait (the terminal does not answer).
// Keys typed meanwhile go to `typed`.
constexpr milliseconds cursor_report_wait{300};

std::optional<std::pair<int, int>> cursor_position(int tty, std::string& typed) {
  write_all(tty, std::string_view("\x1b[6n"));
  std::string input;
  const auto deadline = steady::now() + cursor_report_wait;
  for (;;) {
    if (auto r = find_cursor_report(input)) {
      typed += input.substr(0, r->begin) + input.substr(r->end);
      return std::pair{r->row, r->col};
    }
    const auto left = std::chrono::ceil<milliseconds>(deadline - steady::now()).count();
    pollfd p{tty, POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) break;
    char buf[64];
    const ssize_t n = ::read(tty, buf, sizeof buf);
    if (n <= 0) break;
    input.append(buf, static_cast<std::size_t>(n));
  }
  typed += input;
  return std::nullopt;
}

// One question on the (borrowed) terminal, until a key decides it, the
// deadline passes, or the wake fd says netpen is closing (nullopt).
//
// The command's output is never overwritten: the question starts on a
// fresh line (a newline first unless the cursor report says column 1; no
// report: always the newline), and netpen rewrites its choices line (the
// countdown, the outcome) only while the cursor is still where netpen left
// it, which the cursor report tells; when the command wrote meanwhile, or
// the terminal does not report, the countdown stays as it was and the
// outcome goes on a line of its own.
class terminal_prompt {
 public:
  terminal_prompt(int tty, int wake, const approval_request& request, seconds timeout)
      : tty_(tty), wake_(wake), request_(request), deadline_(steady::now() + timeout) {}

  std::optional<approval> run() {
    show_question(true);
    for (;;) {
      if (auto a = take_typed_keys()) return a;
      if (left() <= seconds(0)) return approval::timeout;
      switch (wait_for_key()) {
        case wakeup::tick: redraw_choices(); break;
        case wakeup::closing: return std::nullopt;
        case wakeup::key:
          if (auto a = read_keys()) return a;
          break;
      }
    }
  }

  // The outcome over the choices line when netpen's line is still the
  // last thing on the terminal, else on a line of its own.
  void show_outcome(const std::string& outcome) {
    const std::string lead = still_mine() ? std::string(clear_line) : fresh_line_prefix();
    write_all(tty_, lead + outcome + "\n");
  }

 private:
  enum class wakeup { key, tick, closing };

  seconds left() const { return std::chrono::ceil<seconds>(deadline_ - steady::now()); }

  // "\n" unless the cursor is known to be at column 1.
  std::string fresh_line_prefix() {
    const auto at = cursor_position(tty_, typed_);
    return at && at->second == 1 ? "" : "\n";
  }

  void show_question(bool fresh) {
    const auto columns = usable_columns(tty_);
    const std::string lead = fresh ? fresh_line_prefix() : std::string();
    if (fresh) typed_.clear();  // keys typed before the prompt showed do not answer it
    write_all(tty_, lead + fit_width(question_line(request_), columns) + "\n" +
                        fit_width(choices_line(request_, left()), columns));
    left_at_ = cursor_position(tty_, typed_);
  }

  // Whether the cursor is where netpen left it after its choices line.
  bool still_mine() {
    if (!left_at_) return false;
    return cursor_position(tty_, typed_) == left_at_;
  }

  void redraw_choices() {
    if (!still_mine()) return;  // the command wrote meanwhile (or no reports): leave the screen alone
    write_all(tty_, std::string(clear_line) + fit_width(choices_line(request_, left()), usable_columns(tty_)));
    left_at_ = cursor_position(tty_, typed_);
  }

  // Sleeps until a key, close(), or the countdown's next whole second.
  wakeup wait_for_key() {
    pollfd fds[2] = {{tty_, POLLIN, 0}, {wake_, POLLIN, 0}};
    const int n = ::poll(fds, 2, ms_to_next_second());
    if (n > 0 && fds[1].revents != 0) return wakeup::closing;
    if (n > 0) return wakeup::key;
    return wakeup::tick;  // timed out, or EINTR: recount
  }

  // 1..1000 ms, when left() will change next (0 once the deadline passed).
  int ms_to_next_second() const {
    const auto remaining = std::chrono::ceil<milliseconds>(deadline_ - steady::now()).count();
    if (remaining <= 0) return 0;
    return static_cast<int>(remaining % 1000 == 0 ? 1000 : remaining % 1000);
  }

  // The keys that arrived, in order. EOF or a read error denies.
  std::optional<approval> read_keys() {
    char keys[32];
    const ssize_t n = ::read(tty_, keys, sizeof keys);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return std::nullopt;
    if (n <= 0) return approval::deny;
    typed_.append(keys, static_cast<std::size_t>(n));
    return take_typed_keys();
  }

  // Answers from the keys typed so far (also those read while waiting for
  // a cursor report). An escape sequence (arrow keys...) is ignored whole.
  std::optional<approval> take_typed_keys() {
    const std::string keys = std::exchange(typed_, {});
    if (keys.empty() || keys[0] == escape) return std::nullopt;
    for (const char key : keys) {
      if (auto a = answer_for(key, has_name(request_))) return a;
      if (shows_details(key)) show_details();
    }
    return std::nullopt;
  }

  void show_details() {
    write_all(tty_, (still_mine() ? std::string(clear_line) : fresh_line_prefix()) + details_text(request_));
    show_question(false);
  }

  int tty_, wake_;
  const approval_request& request_;
  steady::time_point deadline_;
  std::optional<std::pair<int, int>> left_at_;  // the cursor after netpen's choices line, when reported
  std::string typed_;                           // keys read but not yet looked at
};

// Asks one question with the terminal borrowed and prints the outcome; the
// answer is deny when close() interrupted it. netpen's other stderr lines
// (denials, --analyse) wait until the outcome is written (log_hold.hpp).
approval ask_on_terminal(int tty, int wake, const approval_request& request, seconds timeout) {
  const log::line_hold hold;
  borrowed_terminal borrowed(tty);
  terminal_prompt prompt(tty, wake, request, timeout);
  const auto answer = prompt.run();
  prompt.show_outcome(answer ? outcome_line(request, *answer) : "netpen: denied (netpen is stopping)");
  return answer.value_or(approval::deny);
}

void block_all_signals() {
  sigset_t all;
  sigfillset(&all);
  sigdelset(&all, SIGSYS);  // synchronous: self-confinement reports a refused call on this thread
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
}

}  // namespace

result<std::unique_ptr<terminal_approver>> terminal_approver::open(seconds timeout) {
  const int fd = ::open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return fail("usage",
                fmt::format("--interactive needs a terminal: cannot open /dev/tty ({})", std::strerror(errno)));
  return std::make_unique<terminal_approver>(backends::unique_fd(fd), timeout);
}

terminal_approver::terminal_approver(backends::unique_fd tty, seconds timeout)
    : tty_(std::move(tty)),
      wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      timeout_(timeout) {}

result<void> terminal_approver::start() {
  const std::lock_guard j(join_mu_);
  if (worker_.joinable()) return {};
  {
    const std::lock_guard lk(mu_);
    if (closing_) return {};
  }
  try {
    worker_ = std::thread([this] { run(); });
  } catch (const std::system_error& e) {
    return fail("interactive", std::string("cannot start the --interactive prompt thread: ") + e.what());
  }
  return {};
}

terminal_approver::~terminal_approver() { close(); }

void terminal_approver::ask(approval_request request, std::function<void(approval)> done) {
  std::unique_lock lk(mu_);
  if (closing_) {
    lk.unlock();
    std::thread([d = std::move(done)] { d(approval::deny); }).detach();  // never from inside ask()
    return;
  }
  if (auto* q = queued_for(request)) {
    q->waiters.push_back(std::move(done));
    return;
  }
  queue_.push_back({std::move(request), {}});
  queue_.back().waiters.push_back(std::move(done));
  cv_.notify_one();
}

void terminal_approver::close() {
  {
    std::lock_guard lk(mu_);
    closing_ = true;
  }
  cv_.notify_all();
  const std::uint64_t one = 1;
  (void)::write(wake_.get(), &one, sizeof one);
  std::lock_guard j(join_mu_);
  if (worker_.joinable()) {
    if (worker_.get_id() != std::this_thread::get_id()) worker_.join();
    return;
  }
  std::unique_lock lk(mu_);  // never started: nobody else answers
  deny_all(lk);
}

void terminal_approver::run() {
  block_all_signals();
  std::unique_lock lk(mu_);
  while (wait_for_question(lk)) {
    const approval_request request = queue_.front().request;  // the front only gains waiters meanwhile
    lk.unlock();
    const approval answer = ask_on_terminal(tty_.get(), wake_.get(), request, timeout_);
    lk.lock();
    answer_front(lk, answer);
  }
  deny_all(lk);
}

bool terminal_approver::wait_for_question(std::unique_lock<std::mutex>& lk) {
  cv_.wait(lk, [this] { return closing_ || !queue_.empty(); });
  return !closing_;
}

terminal_approver::question* terminal_approver::queued_for(const approval_request& request) {
  for (auto& q : queue_)
    if (same_destination(q.request, request)) return &q;
  return nullptr;
}

// Calls the front question's waiters without the lock; waiters that join
// while they run get the same answer.
void terminal_approver::answer_front(std::unique_lock<std::mutex>& lk, approval answer) {
  for (;;) {
    auto waiters = std::exchange(queue_.front().waiters, {});
    if (waiters.empty()) break;
    lk.unlock();
    for (auto& w : waiters) w(answer);
    lk.lock();
  }
  queue_.pop_front();
}

void terminal_approver::deny_all(std::unique_lock<std::mutex>& lk) {
  while (!queue_.empty()) answer_front(lk, approval::deny);
}

}  // namespace netpen::app::interactive
