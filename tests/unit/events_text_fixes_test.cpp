// [events] What a new user found wrong in the outputs for people and the
// log (issue 20 section 8): a command's quoting, a denial's rule said
// twice, the DNS totals of the text and Markdown summaries, the query type
// of a refused DNS question, and what counts as one denied attempt.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "events_test_util.hpp"
#include "net/events/attempts.hpp"
#include "net/events/event.hpp"
#include "net/events/json_event.hpp"
#include "net/events/live_lines.hpp"
#include "net/events/summary.hpp"
#include "net/events/text_util.hpp"

using namespace netpen::events;
using namespace std::chrono_literals;
using netpen::events_test::at;
using netpen::events_test::dns_denial;

TEST_CASE("a command is shown as a shell would need it typed", "[events]") {
  CHECK(shell_quoted({"sh", "-c", "a; b"}) == "sh -c 'a; b'");
  CHECK(shell_quoted({"curl", "-s", "https://example.com/x?y=1"}) == "curl -s 'https://example.com/x?y=1'");
  CHECK(shell_quoted({"echo", "it's", ""}) == "echo 'it'\\''s' ''");
  CHECK(shell_quoted({"curl", "-w", "code=%{http_code}"}) == "curl -w 'code=%{http_code}'");
  CHECK(shell_quoted({"ls", "/tmp/a_b-c.d:1,2@x+=%"}) == "ls /tmp/a_b-c.d:1,2@x+=%");
  CHECK(shell_quoted({}).empty());
}

TEST_CASE("the log keeps the argv exactly, the command shell-quoted", "[events]") {
  run_info info;
  info.netpen_version = "0.1.0";
  info.backend = "rootless";
  info.argv = {"sh", "-c", "curl -s http://web.lab.test/; sleep 1"};
  info.command = shell_quoted(info.argv);
  const auto j = nlohmann::json::parse(run_start_line(info));
  CHECK(j["command"] == "sh -c 'curl -s http://web.lab.test/; sleep 1'");
  CHECK(j["argv"] == nlohmann::json::array({"sh", "-c", "curl -s http://web.lab.test/; sleep 1"}));
  CHECK(j["controls"] == nlohmann::json::array());
}

TEST_CASE("a denial's text names its rule once", "[events]") {
  event e;
  e.what = kind::denied;
  e.protocol = "tcp";
  e.source = "10.248.0.2:40000";
  e.destination = "203.0.113.10:80";
  e.reason = "deny rule web.lab.test (--deny)";
  e.policy = "deny-rule";
  e.rule = "web.lab.test (--deny)";
  CHECK(to_text(e) == "denied: tcp 10.248.0.2:40000 -> 203.0.113.10:80: deny rule web.lab.test (--deny) [deny-rule]");
  e.reason = "not allowed: no allow rule matches";
  e.policy = "not-allowed";
  e.rule.clear();
  CHECK(to_text(e) == "denied: tcp 10.248.0.2:40000 -> 203.0.113.10:80: not allowed: no allow rule matches [not-allowed]");
  e.reason = "HTTP Host web.example does not resolve to 203.0.113.10 (allowed by web.example (--allow))";
  e.policy = "host-mismatch";
  e.rule = "web.example (--allow)";
  CHECK(to_text(e).ends_with("(allowed by web.example (--allow)) [host-mismatch]"));
}

TEST_CASE("a refused DNS question shows its type, live and as text", "[events]") {
  live_formatter f(false);
  auto a = dns_denial("evil.com", "A", at(0ms));
  auto aaaa = dns_denial("evil.com", "AAAA", at(0ms));
  CHECK(f.format(a, at(0ms)).value().find("evil.com A  deny-rule *.evil.com (--deny)") != std::string::npos);
  CHECK(f.format(aaaa, at(0ms)).value().find("evil.com AAAA  deny-rule") != std::string::npos);
  CHECK(to_text(aaaa).starts_with("denied: dns evil.com AAAA: "));
}

TEST_CASE("one attempt: each denied flow, each refused DNS name once", "[events]") {
  attempt_counter c;
  CHECK(c.add(dns_denial("evil.com", "A", at(0ms))));
  CHECK_FALSE(c.add(dns_denial("evil.com", "AAAA", at(0ms))));
  CHECK_FALSE(c.add(dns_denial("EVIL.com.", "HTTPS", at(1ms))));
  CHECK(c.add(dns_denial("other.evil.com", "A", at(1ms))));
  event flow;
  flow.what = kind::denied;
  flow.protocol = "tcp";
  flow.destination = "203.0.113.10:80";
  CHECK(c.add(flow));
  CHECK(c.add(flow));  // every refused connection is an attempt
  event open;
  open.what = kind::flow_open;
  CHECK_FALSE(c.add(open));
  CHECK(c.count() == 4);
}

TEST_CASE("the text and Markdown summaries say the same DNS totals", "[events]") {
  summary s;
  CHECK(dns_totals_text(s) == "no queries");
  s.dns_queries = 3;
  s.dns_answers = 3;
  s.dns_failed = 1;
  CHECK(dns_totals_text(s) == "3 queries, 3 answers, 1 failed");
  CHECK(render_text(s).find("\ndns: 3 queries, 3 answers, 1 failed\n") != std::string::npos);
  CHECK(render_markdown(s).find("\n3 queries, 3 answers, 1 failed.\n") != std::string::npos);
  s.dns_queries = 1;
  s.dns_answers = 1;
  s.dns_failed = 0;
  CHECK(render_text(s).find("\ndns: 1 query, 1 answer, 0 failed\n") != std::string::npos);
  CHECK(render_markdown(s).find("\n1 query, 1 answer, 0 failed.\n") != std::string::npos);
}
