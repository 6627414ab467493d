// [sandbox-interactive] `create --interactive` (app/sandboxes): the
// question/answer codec, owner -> exec attribution over a parent map, the
// daemon-side approver's routing (with this test process standing in for
// an exec's command), and the exec client's prompt writing to a pipe.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "app/sandboxes/exec_attribution.hpp"
#include "app/sandboxes/exec_prompt.hpp"
#include "app/sandboxes/question_codec.hpp"
#include "app/sandboxes/sandbox_approver.hpp"
#include "net/policy/address_class.hpp"

namespace sb = netpen::app::sandboxes;
namespace pol = netpen::policy;
using pol::approval;

namespace {

pol::approval_request web(std::string_view ip = "203.0.113.10") {
  pol::approval_request r;
  r.protocol = netpen::packet::proto_tcp;
  r.address = *pol::parse_ip(ip);
  r.port = 80;
  r.destination = std::string(ip) + ":80";
  r.names = {"web.lab.test", "www.lab.test"};
  r.process = "pid 4242 (sandbox pid 2): curl -s http://web.lab.test/";
  return r;
}

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  return out;
}

}  // namespace

TEST_CASE("a question survives the wire, hostile text included", "[sandbox-interactive]") {
  sb::question q{7, 12, web("2001:db8::10")};
  q.request.process = "pid 1: evil\nanswer 7 once\\n\0x";
  q.request.process.push_back('\0');
  q.request.names = {"a\nb", "c\\d"};
  q.request.claimed_name = "evil\nanswer 7 once";
  q.request.claimed_by = "TLS SNI";
  const auto wire = sb::encode_question(q);
  CHECK(wire.starts_with("ask 7\n"));
  CHECK(wire.find('\0') == std::string::npos);
  const auto back = sb::decode_question(wire);
  REQUIRE(back);
  CHECK(back->id == 7);
  CHECK(back->timeout_s == 12);
  CHECK(back->request.protocol == q.request.protocol);
  CHECK(back->request.address == q.request.address);
  CHECK(back->request.address.v6);
  CHECK(back->request.port == 80);
  CHECK(back->request.destination == q.request.destination);
  CHECK(back->request.process == q.request.process);
  CHECK(back->request.names == q.request.names);
  CHECK(back->request.claimed_name == q.request.claimed_name);
  CHECK(back->request.claimed_by == "TLS SNI");
  q.request.claimed_name.clear();  // not on the wire when none
  CHECK(sb::encode_question(q).find("claimed") == std::string::npos);
}

TEST_CASE("malformed questions and answers are refused", "[sandbox-interactive]") {
  for (const char* bad : {"", "ask", "ask x", "asked 1", "ask 1\nport 70000", "ask 1\naddress v4 12",
                          "ask 1\nprocess a\\q", "ask 1\nprocess a\\", "ask 1\ncolour red", "ask 1\ntimeout 0",
                          "ask 1\nname"})
    CHECK_FALSE(sb::decode_question(bad));
  for (const char* bad : {"", "answer", "answer 1", "answer x once", "answer 1 maybe", "reply 1 once", "answer 1 once "})
    CHECK_FALSE(sb::decode_answer(bad));
}

TEST_CASE("every answer survives the wire", "[sandbox-interactive]") {
  for (auto a : {approval::allow_once, approval::allow_address, approval::allow_name, approval::deny,
                 approval::timeout, approval::unasked}) {
    const auto back = sb::decode_answer(sb::encode_answer({42, a}));
    REQUIRE(back);
    CHECK(back->id == 42);
    CHECK(back->what == a);
  }
  CHECK(sb::encode_answer({3, approval::allow_once}) == "answer 3 once");
}

TEST_CASE("an owner belongs to the exec of its nearest command ancestor", "[sandbox-interactive]") {
  // host pid -> (parent, sandbox pid). Init 100 (sandbox 1); exec 1's command 110 (sandbox 2),
  // its shell's child 111 (3) and grandchild 112 (4); exec 2's command 120 (5) with child 121 (6);
  // an orphan 130 (7) reparented to the init; 140 gone.
  const std::map<pid_t, sb::process_link> tree{
      {100, {50, 1}}, {110, {100, 2}}, {111, {110, 3}}, {112, {111, 4}},
      {120, {100, 5}}, {121, {120, 6}}, {130, {100, 7}}, {141, {140, 9}},
  };
  auto link_of = [&](pid_t p) -> std::optional<sb::process_link> {
    auto it = tree.find(p);
    if (it == tree.end()) return std::nullopt;
    return it->second;
  };
  const std::map<pid_t, std::uint64_t> execs{{2, 1}, {5, 2}};
  CHECK(sb::exec_of(110, 100, link_of, execs) == std::optional<std::uint64_t>(1));
  CHECK(sb::exec_of(112, 100, link_of, execs) == std::optional<std::uint64_t>(1));
  CHECK(sb::exec_of(121, 100, link_of, execs) == std::optional<std::uint64_t>(2));
  CHECK_FALSE(sb::exec_of(130, 100, link_of, execs));  // orphan: no exec
  CHECK_FALSE(sb::exec_of(100, 100, link_of, execs));  // the init itself
  CHECK_FALSE(sb::exec_of(141, 100, link_of, execs));  // its parent is gone
  CHECK_FALSE(sb::exec_of(999, 100, link_of, execs));  // unknown
  CHECK_FALSE(sb::exec_of(0, 100, link_of, execs));
  // A loop in a corrupt map ends.
  auto loop = [](pid_t p) -> std::optional<sb::process_link> { return sb::process_link{p == 7 ? 8 : 7, 99}; };
  CHECK_FALSE(sb::exec_of(7, 100, loop, execs));
}

TEST_CASE("this process's link is read from /proc", "[sandbox-interactive]") {
  const auto link = sb::read_process_link(::getpid());
  REQUIRE(link);
  CHECK(link->parent == ::getppid());
  CHECK(link->sandbox_pid > 0);
  CHECK_FALSE(sb::read_process_link(0));
}

TEST_CASE("the sandbox approver asks the owner's exec and hands its answer back", "[sandbox-interactive]") {
  std::vector<std::pair<int, std::string>> sent;
  sb::sandbox_approver a(std::chrono::seconds(30), [&](int fd, std::string_view m) { sent.emplace_back(fd, m); });
  const auto self = sb::read_process_link(::getpid());
  REQUIRE(self);
  a.exec_spawned(1, 11, true, self->sandbox_pid);  // this process plays exec 1's command
  a.exec_spawned(2, 12, false, 999999);            // exec 2 has no terminal
  std::vector<approval> got;
  auto req = web();
  req.pid = ::getpid();
  a.ask(req, [&](approval x) { got.push_back(x); });
  a.ask(req, [&](approval x) { got.push_back(x); });  // same destination: joins the first
  auto orphan = web("203.0.113.20");
  a.ask(orphan, [&](approval x) { got.push_back(x); });  // pid unknown
  a.on_wake(1);
  CHECK(got == std::vector{approval::unasked});
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].first == 11);
  const auto q = sb::decode_question(sent[0].second);
  REQUIRE(q);
  CHECK(q->request.destination == "203.0.113.10:80");
  CHECK(q->timeout_s == 30);
  a.on_answer(12, sb::encode_answer({q->id, approval::allow_once}));  // not the asked client: ignored
  CHECK(got.size() == 1);
  a.on_answer(11, sb::encode_answer({q->id, approval::allow_once}));
  CHECK(got == std::vector{approval::unasked, approval::allow_once, approval::allow_once});
  CHECK(a.ms_to_next_deadline() == -1);

  // Its client goes away while asked: unasked; later questions too.
  a.ask(req, [&](approval x) { got.push_back(x); });
  a.on_wake(1);
  CHECK(sent.size() == 2);
  a.exec_ended(1, false);
  a.ask(req, [&](approval x) { got.push_back(x); });
  a.on_wake(1);
  CHECK(sent.size() == 2);
  CHECK(got.size() == 5);
  CHECK(got[3] == approval::unasked);
  CHECK(got[4] == approval::unasked);
}

TEST_CASE("closing the sandbox approver denies what is open", "[sandbox-interactive]") {
  std::vector<std::string> sent;
  sb::sandbox_approver a(std::chrono::seconds(30), [&](int, std::string_view m) { sent.emplace_back(m); });
  const auto self = sb::read_process_link(::getpid());
  REQUIRE(self);
  a.exec_spawned(1, 11, true, self->sandbox_pid);
  std::vector<approval> got;
  auto req = web();
  req.pid = ::getpid();
  a.ask(req, [&](approval x) { got.push_back(x); });
  a.on_wake(1);
  CHECK(a.ms_to_next_deadline() > 30000);
  a.ask(web("203.0.113.30"), [&](approval x) { got.push_back(x); });  // still in the inbox
  a.close();
  CHECK(got == std::vector{approval::deny, approval::deny});
}

TEST_CASE("the exec's prompt asks one question at a time and answers with the key", "[sandbox-interactive]") {
  int p[2];
  REQUIRE(::pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0);
  std::vector<std::string> sent;
  sb::exec_prompt prompt(p[1], [&](std::string_view m) { sent.emplace_back(m); });
  CHECK_FALSE(prompt.asking());
  CHECK(prompt.tick_ms() == -1);
  prompt.add({1, 30, web()});
  prompt.add({2, 30, web("203.0.113.20")});
  CHECK(prompt.asking());
  CHECK(prompt.tick_ms() > 0);
  auto shown = read_all(p[0]);
  CHECK(shown.find("netpen: tcp to web.lab.test (203.0.113.10:80)") != std::string::npos);
  CHECK(shown.find("\r\n  allow [y] once") != std::string::npos);
  CHECK(shown.find("203.0.113.20") == std::string::npos);  // the second waits
  prompt.on_keys("\x1b[A");  // an arrow key: nothing
  prompt.on_keys("x");       // not an answer
  CHECK(sent.empty());
  prompt.on_keys("?");
  CHECK(read_all(p[0]).find("process:  pid 4242") != std::string::npos);
  prompt.on_keys("y");
  CHECK(sent == std::vector<std::string>{"answer 1 once"});
  shown = read_all(p[0]);
  CHECK(shown.find("netpen: allowed once\r\n") != std::string::npos);
  CHECK(shown.find("203.0.113.20:80") != std::string::npos);  // now the second
  prompt.on_keys("n");
  CHECK(sent.back() == "answer 2 deny");
  CHECK_FALSE(prompt.asking());
  prompt.add({3, 30, web()});
  prompt.abandon();
  CHECK(sent.back() == "answer 3 unasked");
  ::close(p[0]);
  ::close(p[1]);
}

TEST_CASE("the exec's prompt answers timeout when its countdown ends", "[sandbox-interactive]") {
  int p[2];
  REQUIRE(::pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0);
  std::vector<std::string> sent;
  sb::exec_prompt prompt(p[1], [&](std::string_view m) { sent.emplace_back(m); });
  prompt.add({5, 1, web()});
  CHECK(read_all(p[0]).find("(denied in 1 s)") != std::string::npos);
  ::usleep(1100 * 1000);
  CHECK(prompt.tick_ms() == 0);
  prompt.on_tick();
  CHECK(sent == std::vector<std::string>{"answer 5 timeout"});
  CHECK(read_all(p[0]).find("netpen: denied (timeout)\r\n") != std::string::npos);
  CHECK_FALSE(prompt.asking());
  ::close(p[0]);
  ::close(p[1]);
}
