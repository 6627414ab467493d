// [interactive] The --interactive approver (app/interactive): the prompt's
// text and keys, the terminal-borrowed marker, and the real approver on a
// pseudo-terminal (it gets the slave; the test reads the prompt from the
// master and types keys into it). The pty is not the test's controlling
// terminal, so tcgetpgrp fails there and the foreground handover is skipped;
// that path is covered by the tmux e2e test.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "app/interactive/prompt_text.hpp"
#include "app/interactive/terminal_approver.hpp"
#include "backends/common/terminal.hpp"
#include "net/policy/address_class.hpp"

using namespace std::chrono_literals;
namespace ia = netpen::app::interactive;
namespace pol = netpen::policy;
using netpen::backends::unique_fd;
using pol::approval;

namespace {

pol::approval_request request_to(std::string_view ip, std::uint16_t port, std::vector<std::string> names) {
  pol::approval_request r;
  r.protocol = netpen::packet::proto_tcp;
  r.address = *pol::parse_ip(ip);
  r.port = port;
  r.destination = std::string(ip) + ":" + std::to_string(port);
  r.names = std::move(names);
  r.process = "pid 4242 (sandbox pid 2): curl -s http://web.lab.test/";
  return r;
}

pol::approval_request web() { return request_to("203.0.113.10", 80, {"web.lab.test"}); }

std::size_t count(std::string_view text, std::string_view what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string_view::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

// Answers as they arrive: (question id, answer), and the thread that gave them.
class answers {
 public:
  std::function<void(approval)> slot(int id) {
    return [this, id](approval a) {
      std::lock_guard lk(mu_);
      got_.emplace_back(id, a);
      threads_.push_back(std::this_thread::get_id());
      cv_.notify_all();
    };
  }
  std::vector<std::pair<int, approval>> wait_for(std::size_t n, std::chrono::milliseconds limit = 5s) {
    std::unique_lock lk(mu_);
    cv_.wait_for(lk, limit, [&] { return got_.size() >= n; });
    return got_;
  }
  std::thread::id thread(std::size_t i) {
    std::lock_guard lk(mu_);
    return threads_.at(i);
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::pair<int, approval>> got_;
  std::vector<std::thread::id> threads_;
};

// A terminal_approver on a fresh pty.
class pty_approver {
 public:
  explicit pty_approver(std::chrono::seconds timeout = 30s) {
    int master = -1, slave = -1;
    char name[128] = {};
    REQUIRE(::openpty(&master, &slave, name, nullptr, nullptr) == 0);
    master_.reset(master);
    slave_name_ = name;
    approver = std::make_unique<ia::terminal_approver>(unique_fd(slave), timeout);
    REQUIRE(approver->start());
  }
  ~pty_approver() { approver.reset(); }  // before the master goes

  // Reads the master until `text` appears after what earlier calls saw (5 s at most).
  bool see(std::string_view text, std::chrono::milliseconds limit = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      if (auto at = screen.find(text, seen_); at != std::string::npos) {
        seen_ = at + text.size();
        return true;
      }
      if (std::chrono::steady_clock::now() >= deadline) return false;
      read_some(100ms);
    }
  }
  // Whatever arrives within `quiet`.
  void drain(std::chrono::milliseconds quiet) {
    const auto until = std::chrono::steady_clock::now() + quiet;
    while (std::chrono::steady_clock::now() < until) read_some(50ms);
  }
  void press(std::string_view keys) { REQUIRE(::write(master_.get(), keys.data(), keys.size()) == std::ssize(keys)); }
  // What the command in the sandbox would write to the same terminal.
  void command_writes(std::string_view text) {
    unique_fd fd(::open(slave_name_.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC));
    REQUIRE(::write(fd.get(), text.data(), text.size()) == std::ssize(text));
  }
  // Whether the test answers cursor position requests as a terminal does.
  bool answers_cursor_reports = true;
  // The screen without the approver's cursor position requests.
  std::string plain() const {
    std::string out = screen;
    for (auto at = out.find("\x1b[6n"); at != std::string::npos; at = out.find("\x1b[6n", at)) out.erase(at, 4);
    return out;
  }
  // Everything written after the first occurrence of `text` (empty if none).
  std::string after(std::string_view text) const {
    const auto at = screen.find(text);
    return at == std::string::npos ? std::string() : screen.substr(at + text.size());
  }
  // The slave's current settings, read through a second descriptor.
  termios settings() const {
    unique_fd fd(::open(slave_name_.c_str(), O_RDWR | O_NOCTTY | O_CLOEXEC));
    termios t{};
    REQUIRE(::tcgetattr(fd.get(), &t) == 0);
    return t;
  }

  std::unique_ptr<ia::terminal_approver> approver;
  std::string screen;  // everything the approver wrote

 private:
  void read_some(std::chrono::milliseconds wait) {
    pollfd p{master_.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0) return;
    char buf[1024];
    const ssize_t n = ::read(master_.get(), buf, sizeof buf);
    if (n > 0) screen.append(buf, static_cast<std::size_t>(n));
    follow_cursor();
  }

  // A small terminal: tracks the cursor through text, CR, LF and the
  // approver's escape sequences, and answers "ESC [ 6n" with its position.
  void follow_cursor() {
    while (done_ < screen.size()) {
      const char c = screen[done_];
      if (c == '\x1b') {
        const auto end = screen.find_first_of("nKR", done_);
        if (end == std::string::npos) return;  // the rest of it comes later
        if (screen.compare(done_, end + 1 - done_, "\x1b[6n") == 0 && answers_cursor_reports) {
          const std::string report = "\x1b[" + std::to_string(row_) + ";" + std::to_string(col_) + "R";
          press(report);
        }
        done_ = end + 1;
        continue;
      }
      if (c == '\n') ++row_;
      if (c == '\r' || c == '\n') col_ = 1;  // ONLCR: LF arrives as CR LF
      else if ((static_cast<unsigned char>(c) & 0xc0) != 0x80) ++col_;
      ++done_;
    }
  }
  std::size_t done_ = 0;
  int row_ = 1, col_ = 1;

  unique_fd master_;
  std::string slave_name_;
  std::size_t seen_ = 0;
};

bool raw_keys(const termios& t) { return (t.c_lflag & (ICANON | ECHO)) == 0; }

}  // namespace

TEST_CASE("the prompt: question and choices, one line each", "[interactive]") {
  CHECK(ia::prompt_lines(web(), 30s) ==
        "netpen: tcp to web.lab.test (203.0.113.10:80) by pid 4242 (sandbox pid 2): curl -s http://web.lab.test/\n"
        "  allow [y] once  [a] always 203.0.113.10  [d] always web.lab.test  deny [n]  details [?]  (denied in 30 s) ");
  auto nameless = request_to("203.0.113.10", 80, {});
  nameless.process.clear();
  CHECK(ia::question_line(nameless) == "netpen: tcp to 203.0.113.10:80");
  CHECK(ia::choices_line(nameless, 7s) ==
        "  allow [y] once  [a] always 203.0.113.10  deny [n]  details [?]  (denied in 7 s) ");
  auto v6 = request_to("2001:db8::1", 443, {"v6.lab.test", "alias.lab.test"});
  v6.protocol = netpen::packet::proto_udp;
  v6.destination = "[2001:db8::1]:443";
  CHECK(ia::question_line(v6).starts_with("netpen: udp to v6.lab.test ([2001:db8::1]:443) by pid 4242"));
  CHECK(ia::choices_line(v6, 1s).find("[a] always 2001:db8::1  [d] always v6.lab.test  ") != std::string::npos);
}

TEST_CASE("the prompt: a claimed name is shown and offered first", "[interactive]") {
  auto r = request_to("203.0.113.10", 443, {"www.lab.test"});
  r.claimed_name = "web.lab.test";
  r.claimed_by = "TLS SNI";
  CHECK(ia::prompt_lines(r, 30s) ==
        "netpen: tcp to web.lab.test (TLS SNI) at 203.0.113.10:443 by pid 4242 (sandbox pid 2): curl -s "
        "http://web.lab.test/\n"
        "  allow [y] once  [a] always 203.0.113.10  [d] always web.lab.test  deny [n]  details [?]  (denied in 30 s) ");
  CHECK(ia::outcome_line(r, approval::allow_name) == "netpen: allowed web.lab.test for this run");
  CHECK(ia::has_name(r));
  CHECK(ia::details_text(r).find("  claimed:  web.lab.test (TLS SNI)\n  names:    www.lab.test\n") != std::string::npos);
  // A name claimed at an address no name resolved to: [d] still offered.
  auto pinned = request_to("203.0.113.30", 80, {});
  pinned.claimed_name = "evil.lab.test\x1b[2J";
  pinned.claimed_by = "HTTP Host";
  pinned.process.clear();
  CHECK(ia::has_name(pinned));
  CHECK(ia::question_line(pinned) == "netpen: tcp to evil.lab.test?[2J (HTTP Host) at 203.0.113.30:80");
  CHECK(ia::choices_line(pinned, 5s).find("[d] always evil.lab.test?[2J  ") != std::string::npos);
  CHECK_FALSE(ia::has_name(request_to("203.0.113.30", 80, {})));
}

TEST_CASE("the details: process, names, address, port, protocol", "[interactive]") {
  auto r = request_to("203.0.113.10", 80, {"web.lab.test", "www.lab.test"});
  CHECK(ia::details_text(r) ==
        "  process:  pid 4242 (sandbox pid 2): curl -s http://web.lab.test/\n"
        "  names:    web.lab.test, www.lab.test\n"
        "  address:  203.0.113.10\n"
        "  port:     80\n"
        "  protocol: tcp\n");
  auto ping = request_to("203.0.113.10", 0, {});
  ping.protocol = netpen::packet::proto_icmp;
  ping.process.clear();
  const auto d = ia::details_text(ping);
  CHECK(d.find("process:  unknown\n") != std::string::npos);
  CHECK(d.find("names:    none seen in this run\n") != std::string::npos);
  CHECK(d.find("port:     none\n") != std::string::npos);
  CHECK(d.find("protocol: icmp\n") != std::string::npos);
}

TEST_CASE("the outcome lines", "[interactive]") {
  CHECK(ia::outcome_line(web(), approval::allow_once) == "netpen: allowed once");
  CHECK(ia::outcome_line(web(), approval::allow_address) == "netpen: allowed 203.0.113.10 for this run");
  CHECK(ia::outcome_line(web(), approval::allow_name) == "netpen: allowed web.lab.test for this run");
  CHECK(ia::outcome_line(web(), approval::deny) == "netpen: denied 203.0.113.10 for this run");
  CHECK(ia::outcome_line(web(), approval::timeout) == "netpen: denied (timeout)");
}

TEST_CASE("keys: y a d n answer, ? and i show details, others nothing", "[interactive]") {
  CHECK(ia::answer_for('y', true) == approval::allow_once);
  CHECK(ia::answer_for('a', true) == approval::allow_address);
  CHECK(ia::answer_for('d', true) == approval::allow_name);
  CHECK(ia::answer_for('d', false) == std::nullopt);
  CHECK(ia::answer_for('n', false) == approval::deny);
  for (char other : {'Y', 'A', 'x', ' ', '\r', '\n', '\x1b', '?', 'i'})
    CHECK(ia::answer_for(other, true) == std::nullopt);
  CHECK(ia::shows_details('?'));
  CHECK(ia::shows_details('i'));
  CHECK_FALSE(ia::shows_details('y'));
}

TEST_CASE("untrusted text cannot drive the terminal", "[interactive]") {
  CHECK(ia::printable("curl -s http://x/") == "curl -s http://x/");
  CHECK(ia::printable("a\x1b[2Jb\r\n\t\x7f") == "a?[2Jb????");
  CHECK(ia::printable("\xc2\x9b" "31m") == "?31m");      // C1 CSI
  CHECK(ia::printable("caf\xc3\xa9 \xe2\x9c\x93") == "caf\xc3\xa9 \xe2\x9c\x93");  // UTF-8 kept
  CHECK(ia::printable("\xff\xc3") == "??");               // malformed
  auto r = web();
  r.process = "pid 1: evil\x1b[1A\rallow";
  CHECK(ia::question_line(r).find('\x1b') == std::string::npos);
  CHECK(ia::details_text(r).find('\r') == std::string::npos);
}

TEST_CASE("lines are cut to the terminal's width", "[interactive]") {
  CHECK(ia::fit_width("hello world", 0) == "hello world");
  CHECK(ia::fit_width("hello world", 11) == "hello world");
  CHECK(ia::fit_width("hello world", 8) == "hello...");
  CHECK(ia::fit_width("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 4) == "\xc3\xa9...");
  CHECK(ia::fit_width("hello", 2) == "..");
}

TEST_CASE("the terminal-borrowed marker lasts one second after the borrow", "[interactive]") {
  netpen::backends::note_terminal_borrowed(true);
  CHECK(netpen::backends::terminal_recently_borrowed());
  netpen::backends::note_terminal_borrowed(false);
  CHECK(netpen::backends::terminal_recently_borrowed());
  std::this_thread::sleep_for(1100ms);
  CHECK_FALSE(netpen::backends::terminal_recently_borrowed());
}

TEST_CASE("open: a terminal or a usage error", "[interactive]") {
  auto r = ia::terminal_approver::open(30s);
  if (!r) {
    CHECK(r.error().code == "usage");
    CHECK(r.error().message.starts_with("--interactive needs a terminal: cannot open /dev/tty ("));
  }
}

TEST_CASE("pty: each key gives its answer", "[interactive]") {
  const auto [key, expected, outcome] = GENERATE(table<char, approval, std::string>({
      {'y', approval::allow_once, "netpen: allowed once"},
      {'a', approval::allow_address, "netpen: allowed 203.0.113.10 for this run"},
      {'d', approval::allow_name, "netpen: allowed web.lab.test for this run"},
      {'n', approval::deny, "netpen: denied 203.0.113.10 for this run"},
  }));
  answers got;
  pty_approver t;
  t.approver->ask(web(), got.slot(1));
  REQUIRE(t.see("netpen: tcp to web.lab.test (203.0.113.10:80) by pid 4242"));
  REQUIRE(t.see("(denied in 30 s) "));
  CHECK(raw_keys(t.settings()));
  t.press(std::string(1, key));
  CHECK(got.wait_for(1) == std::vector{std::pair{1, expected}});
  CHECK(t.see(outcome));
  CHECK_FALSE(raw_keys(t.settings()));  // restored
}

TEST_CASE("pty: the prompt shows the claimed name, d allows it", "[interactive]") {
  answers got;
  pty_approver t;
  auto r = request_to("203.0.113.10", 443, {});
  r.claimed_name = "web.lab.test";
  r.claimed_by = "TLS SNI";
  t.approver->ask(r, got.slot(1));
  REQUIRE(t.see("netpen: tcp to web.lab.test (TLS SNI) at 203.0.113.10:443 by pid 4242"));
  REQUIRE(t.see("[d] always web.lab.test"));
  t.press("d");
  CHECK(got.wait_for(1) == std::vector{std::pair{1, approval::allow_name}});
  CHECK(t.see("netpen: allowed web.lab.test for this run"));
}

TEST_CASE("pty: other keys, arrows and d without a name are ignored", "[interactive]") {
  answers got;
  pty_approver t;
  t.approver->ask(request_to("203.0.113.10", 80, {}), got.slot(1));
  REQUIRE(t.see("details [?]"));
  CHECK(t.screen.find("[d]") == std::string::npos);
  t.press("d");
  t.press("\x1b[A");  // arrow up ("A" is no key, but no escape sequence answers)
  t.press("xq ");
  CHECK(got.wait_for(1, 300ms).empty());
  t.press("n");
  CHECK(got.wait_for(1) == std::vector{std::pair{1, approval::deny}});
}

TEST_CASE("pty: ? shows the details, then asks again", "[interactive]") {
  answers got;
  pty_approver t;
  t.approver->ask(web(), got.slot(1));
  REQUIRE(t.see("details [?]"));
  t.press("?");
  REQUIRE(t.see("  process:  pid 4242 (sandbox pid 2): curl -s http://web.lab.test/\r\n"));  // ONLCR
  REQUIRE(t.see("  protocol: tcp"));
  REQUIRE(t.see("netpen: tcp to web.lab.test"));  // asked again
  REQUIRE(t.see("details [?]"));
  CHECK(got.wait_for(1, 200ms).empty());
  t.press("y");
  CHECK(got.wait_for(1) == std::vector{std::pair{1, approval::allow_once}});
}

TEST_CASE("pty: no answer within the timeout denies", "[interactive]") {
  answers got;
  pty_approver t(1s);
  const auto start = std::chrono::steady_clock::now();
  t.approver->ask(web(), got.slot(1));
  REQUIRE(t.see("(denied in 1 s) "));
  CHECK(got.wait_for(1, 3s) == std::vector{std::pair{1, approval::timeout}});
  CHECK(std::chrono::steady_clock::now() - start >= 900ms);
  CHECK(t.see("netpen: denied (timeout)"));
  CHECK_FALSE(raw_keys(t.settings()));
}

TEST_CASE("pty: the countdown is redrawn every second", "[interactive]") {
  answers got;
  pty_approver t(3s);
  t.approver->ask(web(), got.slot(1));
  REQUIRE(t.see("(denied in 3 s) "));
  REQUIRE(t.see("\r\x1b[K  allow [y] once"));
  REQUIRE(t.see("(denied in 2 s) "));
  t.press("y");
  CHECK(got.wait_for(1) == std::vector{std::pair{1, approval::allow_once}});
}

TEST_CASE("pty: questions for one destination share one prompt and one answer", "[interactive]") {
  answers got;
  pty_approver t;
  t.approver->ask(web(), got.slot(1));
  t.approver->ask(web(), got.slot(2));
  REQUIRE(t.see("details [?]"));
  t.press("a");
  const auto both = got.wait_for(2);
  CHECK(both == std::vector{std::pair{1, approval::allow_address}, std::pair{2, approval::allow_address}});
  t.drain(300ms);
  CHECK(count(t.screen, "netpen: tcp to") == 1);
}

TEST_CASE("pty: different destinations are asked one at a time, in order", "[interactive]") {
  answers got;
  pty_approver t;
  t.approver->ask(web(), got.slot(1));
  t.approver->ask(request_to("198.51.100.7", 443, {"api.lab.test"}), got.slot(2));
  t.approver->ask(request_to("203.0.113.10", 443, {"web.lab.test"}), got.slot(3));  // another port
  REQUIRE(t.see("(203.0.113.10:80)"));
  REQUIRE(t.see("details [?]"));
  t.drain(200ms);
  CHECK(t.screen.find("api.lab.test") == std::string::npos);
  t.press("y");
  REQUIRE(t.see("netpen: allowed once"));
  REQUIRE(t.see("netpen: tcp to api.lab.test (198.51.100.7:443)"));
  REQUIRE(t.see("details [?]"));
  t.press("n");
  REQUIRE(t.see("(203.0.113.10:443)"));
  REQUIRE(t.see("details [?]"));
  t.press("y");
  CHECK(got.wait_for(3) == std::vector{std::pair{1, approval::allow_once}, std::pair{2, approval::deny},
                                       std::pair{3, approval::allow_once}});
}

TEST_CASE("pty: close() denies the open and the queued questions, restores the terminal", "[interactive]") {
  answers got;
  pty_approver t;
  t.approver->ask(web(), got.slot(1));
  t.approver->ask(request_to("198.51.100.7", 443, {}), got.slot(2));
  REQUIRE(t.see("details [?]"));
  REQUIRE(raw_keys(t.settings()));
  t.approver->close();
  CHECK(got.wait_for(2, 0ms) == std::vector{std::pair{1, approval::deny}, std::pair{2, approval::deny}});
  CHECK(t.see("netpen: denied (netpen is stopping)"));
  CHECK_FALSE(raw_keys(t.settings()));
  t.approver->close();  // idempotent

  t.approver->ask(web(), got.slot(3));  // after close: denied, but not from inside ask()
  CHECK(got.wait_for(3).size() == 3);
  CHECK(got.wait_for(3).back() == std::pair{3, approval::deny});
  CHECK(got.thread(2) != std::this_thread::get_id());
  t.drain(100ms);
  CHECK(count(t.screen, "netpen: tcp to") == 1);
}

TEST_CASE("pty: the prompt starts on a fresh line after the command's output", "[interactive]") {
  answers got;
  pty_approver t;
  t.command_writes("code=200");  // curl -w 'code=%{http_code}': no newline
  REQUIRE(t.see("code=200"));
  t.approver->ask(web(), got.slot(1));
  REQUIRE(t.see("netpen: tcp to"));
  CHECK(t.plain().find("code=200\r\nnetpen: tcp to") != std::string::npos);
  t.press("y");
  CHECK(got.wait_for(1) == std::vector{std::pair{1, approval::allow_once}});
}

TEST_CASE("pty: at column 1 the prompt adds no empty line", "[interactive]") {
  answers got;
  pty_approver t;
  t.command_writes("done\n");
  REQUIRE(t.see("done\r\n"));
  t.approver->ask(web(), got.slot(1));
  REQUIRE(t.see("details [?]"));
  CHECK(t.plain().find("done\r\nnetpen: tcp to") != std::string::npos);
  t.press("y");
  CHECK(got.wait_for(1) == std::vector{std::pair{1, approval::allow_once}});
}

TEST_CASE("pty: what the command writes during a prompt is never cleared", "[interactive]") {
  answers got;
  pty_approver t(3s);
  t.approver->ask(web(), got.slot(1));
  REQUIRE(t.see("(denied in 3 s) "));
  t.drain(200ms);
  t.command_writes("progress 50%");
  REQUIRE(t.see("progress 50%"));
  t.drain(1500ms);  // a countdown tick came and went
  t.press("y");
  CHECK(got.wait_for(1) == std::vector{std::pair{1, approval::allow_once}});
  REQUIRE(t.see("netpen: allowed once"));
  const auto later = t.after("progress 50%");
  CHECK(later.find("\r\x1b[K") == std::string::npos);  // nothing erased its line
  CHECK(later.find("(denied in 2 s)") == std::string::npos);  // no countdown drawn over it
  const auto plain = t.plain();
  CHECK(plain.substr(plain.find("progress 50%")).find("\r\nnetpen: allowed once") != std::string::npos);  // own line
}

TEST_CASE("pty: a terminal without cursor reports: fresh lines, no redraws", "[interactive]") {
  answers got;
  pty_approver t(2s);
  t.answers_cursor_reports = false;
  t.approver->ask(web(), got.slot(1));
  REQUIRE(t.see("(denied in 2 s) "));
  CHECK(got.wait_for(1, 4s) == std::vector{std::pair{1, approval::timeout}});
  REQUIRE(t.see("netpen: denied (timeout)"));
  CHECK(t.screen.find("\r\x1b[K") == std::string::npos);
  CHECK(t.plain().find("\r\nnetpen: tcp to") != std::string::npos);
}

TEST_CASE("cursor reports are found among typed keys", "[interactive]") {
  const auto r = ia::find_cursor_report("y\x1b[12;34Rn");
  REQUIRE(r);
  CHECK(r->row == 12);
  CHECK(r->col == 34);
  CHECK(r->begin == 1);
  CHECK(r->end == 9);
  CHECK_FALSE(ia::find_cursor_report("\x1b[12;R"));
  CHECK_FALSE(ia::find_cursor_report("\x1b[A"));
  CHECK_FALSE(ia::find_cursor_report("\x1b[12;3"));  // not complete yet
  CHECK(ia::find_cursor_report("\x1b[A\x1b[1;1R")->col == 1);
}
