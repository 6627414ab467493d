// The --interactive prompt of `netpen exec` (see exec_prompt.hpp).
#include "app/sandboxes/exec_prompt.hpp"
#include "backends/common/write_all.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>

#include "app/interactive/prompt_text.hpp"

namespace netpen::app::sandboxes {
namespace {

namespace ia = interactive;
using backends::write_all;
constexpr std::string_view clear_line = "\r\x1b[K";  // to column 0, erase the line
constexpr char escape = '\x1b';

// Raw mode: every line end is the terminal's "\r\n".
std::string raw_lines(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '\n') out += '\r';
    out += c;
  }
  return out;
}

std::size_t usable_columns(int fd) {
  winsize ws{};
  if (::ioctl(fd, TIOCGWINSZ, &ws) != 0 || ws.ws_col < 2) return 0;
  return ws.ws_col - 1U;
}

}  // namespace

void exec_prompt::add(question q) {
  waiting_.push_back(std::move(q));
  if (!asking()) show_next();
}

std::chrono::seconds exec_prompt::left() const {
  return std::chrono::ceil<std::chrono::seconds>(deadline_ - steady::now());
}

int exec_prompt::tick_ms() const {
  if (!shown_) return -1;
  const auto remaining = std::chrono::ceil<std::chrono::milliseconds>(deadline_ - steady::now()).count();
  if (remaining <= 0) return 0;
  return static_cast<int>(remaining % 1000 == 0 ? 1000 : remaining % 1000);
}

void exec_prompt::show_next() {
  if (waiting_.empty()) return;
  shown_ = std::move(waiting_.front());
  waiting_.pop_front();
  deadline_ = steady::now() + std::chrono::seconds(shown_->timeout_s);
  write_all(out_, "\r\n");
  show_question();
}

void exec_prompt::show_question() {
  const auto columns = usable_columns(out_);
  write_all(out_, ia::fit_width(ia::question_line(shown_->request), columns) + "\r\n" +
                      ia::fit_width(ia::choices_line(shown_->request, left()), columns));
}

void exec_prompt::on_tick() {
  if (!shown_) return;
  if (left() <= std::chrono::seconds(0)) return settle(policy::approval::timeout);
  write_all(out_, std::string(clear_line) +
                      ia::fit_width(ia::choices_line(shown_->request, left()), usable_columns(out_)));
}

// An escape sequence (arrow keys...) is ignored whole, as in a run.
void exec_prompt::on_keys(std::string_view keys) {
  if (!shown_ || keys.empty() || keys.front() == escape) return;
  for (const char key : keys) {
    if (auto a = ia::answer_for(key, ia::has_name(shown_->request))) return settle(*a);
    if (ia::shows_details(key)) {
      write_all(out_, std::string(clear_line) + raw_lines(ia::details_text(shown_->request)));
      show_question();
    }
  }
}

void exec_prompt::settle(policy::approval a) {
  write_all(out_, std::string(clear_line) + ia::outcome_line(shown_->request, a) + "\r\n");
  send_(encode_answer({shown_->id, a}));
  shown_.reset();
  show_next();
}

void exec_prompt::abandon() {
  if (shown_) send_(encode_answer({shown_->id, policy::approval::unasked}));
  for (const auto& q : waiting_) send_(encode_answer({q.id, policy::approval::unasked}));
  shown_.reset();
  waiting_.clear();
}

}  // namespace netpen::app::sandboxes
