// Unit tests for the --analyse live lines: layout of every kind, colour on
// and off, duplicate folding, unsafe text, and the colour decision.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "events_test_util.hpp"
#include "net/events/live_lines.hpp"
#include "tests/unit/skip.hpp"

using namespace netpen::events;
using namespace std::chrono_literals;
using netpen::events_test::at;
using netpen::events_test::dns_denial;
using netpen::events_test::sample_events;

namespace {

std::string strip_ansi(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\033') {
      while (i < text.size() && text[i] != 'm') ++i;
      continue;
    }
    out += text[i];
  }
  return out;
}

// Sets or unsets an environment variable for the scope, then restores it.
class scoped_env {
 public:
  scoped_env(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value != nullptr) ::setenv(name, value, 1);
    else ::unsetenv(name);
  }
  ~scoped_env() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }
  scoped_env(const scoped_env&) = delete;
  scoped_env& operator=(const scoped_env&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace

TEST_CASE("one aligned line per event kind, without colour", "[events]") {
  live_formatter f(false);
  std::vector<std::string> lines;
  for (const auto& e : sample_events(at(0ms))) {
    auto line = f.format(e, at(-12ms));
    REQUIRE(line);
    lines.push_back(*line);
  }
  const std::vector<std::string> expected{
      "  0.012s DNS   udp    10.248.0.2:51000      -> 10.248.0.1:53  example.com A?  [4242 curl -s https://example.com]",
      "  0.032s DNS   udp    10.248.0.2:51000      -> 10.248.0.1:53  example.com A NOERROR: 93.184.216.34, "
      "93.184.216.35  [4242 curl -s https://example.com]",
      "  0.037s OPEN  tcp    10.248.0.2:40000      -> example.com (93.184.216.34:443)  [4242 curl -s https://example.com]",
      "  0.537s CLOSE tcp    10.248.0.2:40000      -> example.com (93.184.216.34:443)  closed, 517 B out, 3.2 KiB in, "
      "500 ms  [4242 curl -s https://example.com]",
      "  0.612s DENY  udp    10.248.0.2:5353       -> 203.0.113.10:7  UDP is not allowed with --proxy-only  "
      "[4250 nc -u 203.0.113.10 7]",
      "  0.712s PROXY tcp    10.248.0.2:40000      -> example.com (93.184.216.34:443)  proxy answered 403 Forbidden "
      "(via http://u:***@proxy.lab.test:3128)  [4242 curl -s https://example.com]",
      "  0.812s ERROR -      cannot write the capture: No space left on device",
      "  0.912s DENY  tcp    10.248.0.2:40002      -> tracker.evil.com (203.0.113.11:443)  "
      "deny-rule *.evil.com (--deny)  [4242 curl -s https://example.com]",
      "  0.962s WARN  tcp    10.248.0.2:40003      -> 1.1.1.1:443  the tree talks to Cloudflare DNS over HTTPS "
      "(1.1.1.1:443): names it resolves there bypass name policy  [4242 curl -s https://example.com]",
  };
  CHECK(lines == expected);
  CHECK_FALSE(f.flush_folded());
}

TEST_CASE("flow lines show what the flow claimed: SNI and ALPN, or the HTTP request", "[events]") {
  live_formatter f(false);
  const auto events = sample_events(at(0ms));
  event open = events[2];
  open.name.reset();
  open.process.reset();
  open.destination = "203.0.113.10:443";
  open.sni = "web.lab.test";
  open.alpn = {"h2", "http/1.1"};
  CHECK(f.format(open, at(0ms)).value() ==
        "  0.025s OPEN  tcp    10.248.0.2:40000      -> 203.0.113.10:443  sni=web.lab.test alpn=h2,http/1.1");

  event close = events[3];
  close.process.reset();
  close.http_method = "GET";
  close.http_host = "web.lab.test";
  close.http_path = "/index.html";
  CHECK(f.format(close, at(0ms)).value() ==
        "  0.525s CLOSE tcp    10.248.0.2:40000      -> example.com (93.184.216.34:443)  GET web.lab.test/index.html  "
        "closed, 517 B out, 3.2 KiB in, 500 ms");

  event denied = events[7];
  denied.process.reset();
  denied.policy = "sni-not-allowed";
  denied.rule.clear();
  denied.sni = "tracker.evil.com";
  CHECK(f.format(denied, at(0ms)).value() ==
        "  0.900s DENY  tcp    10.248.0.2:40002      -> tracker.evil.com (203.0.113.11:443)  sni=tracker.evil.com  "
        "sni-not-allowed");

  // The one-line text (warnings without --analyse) names the claim after the destination.
  CHECK(to_text(denied) == "denied: tcp 10.248.0.2:40002 -> tracker.evil.com (203.0.113.11:443) sni=tracker.evil.com: "
                           "a deny rule matches the destination [sni-not-allowed]");

  // A request without Host; a very long path is cut; control characters escaped.
  event bare = events[3];
  bare.process.reset();
  bare.http_method = "POST";
  bare.http_path = "/\x1b[31m" + std::string(100, 'a');
  const std::string line = f.format(bare, at(0ms)).value();
  CHECK(line.find("POST /\\x1b[31maaaa") != std::string::npos);
  CHECK(line.find("a...  closed") != std::string::npos);
  CHECK(line.find('\x1b') == std::string::npos);

  // Other kinds never show a claim.
  event warning = events[8];
  warning.sni = "one.one.one.one";
  CHECK(f.format(warning, at(0ms)).value().find("sni=") == std::string::npos);
}

TEST_CASE("colour wraps the same text in ANSI codes", "[events]") {
  live_formatter plain(false);
  live_formatter colour(true);
  for (const auto& e : sample_events(at(0ms))) {
    auto p = plain.format(e, at(0ms));
    auto c = colour.format(e, at(0ms));
    REQUIRE(p);
    REQUIRE(c);
    CHECK(p->find('\033') == std::string::npos);
    CHECK(c->find('\033') != std::string::npos);
    CHECK(strip_ansi(*c) == *p);
  }
  event denied = sample_events(at(0ms))[4];
  live_formatter c2(true);
  CHECK(c2.format(denied, at(0ms))->find("\033[1;31mDENY \033[0m") != std::string::npos);
}

TEST_CASE("policy decisions: the code and rule, compactly", "[events]") {
  live_formatter f(false);
  event denied = sample_events(at(0ms))[7];
  denied.name.reset();
  denied.process.reset();
  denied.source = "10.248.0.2:40000";
  denied.destination = "203.0.113.11:80";
  denied.policy = "not-allowed";
  denied.rule.clear();
  CHECK(f.format(denied, at(0ms)).value() ==
        "  0.900s DENY  tcp    10.248.0.2:40000      -> 203.0.113.11:80  not-allowed");

  CHECK(f.format(dns_denial("evil.com", "A", at(0ms)), at(0ms)).value() ==
        "  0.000s DENY  dns    evil.com A  deny-rule *.evil.com (--deny)");

  event open = sample_events(at(0ms))[2];
  open.process.reset();
  open.name = "web.lab.test";
  open.policy = "allow-rule";
  open.rule = "web.lab.test (--allow)";
  CHECK(f.format(open, at(0ms)).value() ==
        "  0.025s OPEN  tcp    10.248.0.2:40000      -> web.lab.test (93.184.216.34:443)  "
        "allow-rule web.lab.test (--allow)");
  open.via = "socks5h://gw:1080";
  open.policy = "allowed-name";
  open.rule.clear();
  CHECK(f.format(open, at(0ms)).value().ends_with("  via socks5h://gw:1080, allowed-name"));

  // Without a policy code a denial keeps its sentence (--proxy-only).
  CHECK(f.format(sample_events(at(0ms))[4], at(0ms)).value().find("UDP is not allowed with --proxy-only") !=
        std::string::npos);
}

TEST_CASE("warnings are yellow in colour", "[events]") {
  live_formatter f(true);
  CHECK(f.format(sample_events(at(0ms))[8], at(0ms))->find("\033[33mWARN \033[0m") != std::string::npos);
}

TEST_CASE("consecutive duplicates are folded, time aside", "[events]") {
  live_formatter f(false);
  event denied = sample_events(at(0ms))[4];
  REQUIRE(f.format(denied, at(0ms)));
  for (int i = 1; i <= 3; ++i) {
    denied.time = at(std::chrono::seconds(i));
    CHECK_FALSE(f.format(denied, at(0ms)));
  }
  event error = sample_events(at(0ms))[6];
  CHECK(f.format(error, at(0ms)).value() ==
        "  (repeated 3 times)\n  0.800s ERROR -      cannot write the capture: No space left on device");
  // The same line again after a different one is printed again.
  CHECK(f.format(denied, at(0ms)));
  CHECK_FALSE(f.format(denied, at(0ms)));
  CHECK(f.flush_folded().value() == "  (repeated 1 time)");
  CHECK_FALSE(f.flush_folded());
  // ... and later repeats keep folding after a flush.
  CHECK_FALSE(f.format(denied, at(0ms)));
  CHECK(f.flush_folded().value() == "  (repeated 1 time)");
}

TEST_CASE("a different process or port is a different line", "[events]") {
  live_formatter f(false);
  event denied = sample_events(at(0ms))[4];
  REQUIRE(f.format(denied, at(0ms)));
  denied.source = "10.248.0.2:5354";
  CHECK(f.format(denied, at(0ms)));
  denied.process->pid = 4251;
  CHECK(f.format(denied, at(0ms)));
  CHECK_FALSE(f.flush_folded());
}

TEST_CASE("folded notes are dim in colour", "[events]") {
  live_formatter f(true);
  event denied = sample_events(at(0ms))[4];
  REQUIRE(f.format(denied, at(0ms)));
  CHECK_FALSE(f.format(denied, at(0ms)));
  CHECK(f.flush_folded().value() == "  \033[2m(repeated 1 time)\033[0m");
}

TEST_CASE("terminal escapes from the tree are shown, not obeyed", "[events]") {
  live_formatter f(true);
  event q = sample_events(at(0ms))[0];
  q.query = "evil\033]0;pwned\007.example";
  q.process->command = std::string("sh -c \xC2\x9B") + "2J";
  const auto line = f.format(q, at(0ms)).value();
  CHECK(line.find("evil\\x1b]0;pwned\\x07.example A?") != std::string::npos);
  CHECK(line.find("sh -c \\u009b2J") != std::string::npos);
  CHECK(line.find('\007') == std::string::npos);
}

TEST_CASE("long commands and missing parts", "[events]") {
  live_formatter f(false);
  event open = sample_events(at(0ms))[2];
  open.process->command = "python3 " + std::string(100, 'x');
  open.name.reset();
  open.via = "socks5h://gw:1080";
  const auto line = f.format(open, at(0ms)).value();
  CHECK(line.find("-> 93.184.216.34:443  via socks5h://gw:1080  [4242 python3 xxx") != std::string::npos);
  CHECK(line.ends_with("xxx...]"));
  event bare;
  bare.what = kind::flow_open;
  bare.time = at(0ms);
  bare.protocol = "icmp";
  bare.destination = "203.0.113.10";
  CHECK(f.format(bare, at(0ms)).value() == "  0.000s OPEN  icmp   -> 203.0.113.10");
}

TEST_CASE("want_colour: never on a pipe", "[events]") {
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  {
    scoped_env no("NO_COLOR", nullptr);
    CHECK_FALSE(want_colour(pipe_fds[1]));
  }
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
}

TEST_CASE("want_colour: on a terminal, NO_COLOR and TERM=dumb respected", "[events]") {
  const int master = ::posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0) {
    if (master >= 0) ::close(master);
    SKIP_TEST("no pseudo-terminal here");
  }
  const int tty = ::open(::ptsname(master), O_RDWR | O_NOCTTY);
  REQUIRE(tty >= 0);
  {
    scoped_env no("NO_COLOR", nullptr);
    scoped_env term("TERM", "xterm-256color");
    CHECK(want_colour(tty));
  }
  {
    scoped_env no("NO_COLOR", "");
    scoped_env term("TERM", "xterm-256color");
    CHECK(want_colour(tty));  // empty means unset (no-color.org)
  }
  {
    scoped_env no("NO_COLOR", "1");
    scoped_env term("TERM", "xterm-256color");
    CHECK_FALSE(want_colour(tty));
  }
  {
    scoped_env no("NO_COLOR", nullptr);
    scoped_env term("TERM", "dumb");
    CHECK_FALSE(want_colour(tty));
  }
  ::close(tty);
  ::close(master);
}
