// Unit tests for the flow log's JSON Lines form: events and run records
// written and read back, exact lines, times, rejects, and whole logs.
#include <catch2/catch.hpp>

#include <set>
#include <sstream>

#include "events_test_util.hpp"
#include "net/events/json_event.hpp"

using namespace netpen::events;
using namespace std::chrono_literals;
using netpen::events_test::at;
using netpen::events_test::dns_denial;
using netpen::events_test::sample_events;

namespace {

void check_same(const event& a, const event& b) {
  CHECK(a.what == b.what);
  CHECK(a.time == b.time);
  CHECK(a.protocol == b.protocol);
  CHECK(a.source == b.source);
  CHECK(a.destination == b.destination);
  CHECK(a.name == b.name);
  CHECK(a.reason == b.reason);
  CHECK(a.policy == b.policy);
  CHECK(a.rule == b.rule);
  CHECK(a.via == b.via);
  CHECK(a.bytes_out == b.bytes_out);
  CHECK(a.bytes_in == b.bytes_in);
  CHECK(a.duration == b.duration);
  CHECK(a.end == b.end);
  CHECK(a.query == b.query);
  CHECK(a.query_type == b.query_type);
  CHECK(a.rcode == b.rcode);
  CHECK(a.answers == b.answers);
  CHECK(a.transport == b.transport);
  CHECK(a.sni == b.sni);
  CHECK(a.alpn == b.alpn);
  CHECK(a.http_method == b.http_method);
  CHECK(a.http_host == b.http_host);
  CHECK(a.http_path == b.http_path);
  REQUIRE(a.process.has_value() == b.process.has_value());
  if (a.process) {
    CHECK(a.process->pid == b.process->pid);
    CHECK(a.process->sandbox_pid == b.process->sandbox_pid);
    CHECK(a.process->command == b.process->command);
  }
}

std::string error_of(std::string_view line) {
  auto r = from_json_line(line);
  return r ? std::string("<no error>") : r.error().code + ": " + r.error().message;
}

const std::string good_start =
    R"({"schema_version":1,"time":"2026-11-22T10:35:02.000000Z","event":"run_start","netpen_version":"0.1.0",)"
    R"("backend":"rootless","command":"curl x","controls":[]})";
const std::string good_event =
    R"({"schema_version":1,"time":"2026-11-22T10:35:02.100000Z","event":"error","reason":"boom"})";
const std::string good_end =
    R"({"schema_version":1,"time":"2026-11-22T10:35:03.000000Z","event":"run_end","exit_status":3,"duration_ms":1000})";

}  // namespace

TEST_CASE("every event kind survives a JSON round trip", "[events]") {
  const auto events = sample_events(at(0ms));
  std::set<kind> kinds;
  for (const auto& e : events) {
    INFO(to_json_line(e));
    auto back = from_json_line(to_json_line(e));
    REQUIRE(back);
    check_same(*back, e);
    kinds.insert(e.what);
  }
  CHECK(kinds.size() == 8);
}

TEST_CASE("policy denials and warnings, exactly and back", "[events]") {
  const auto events = sample_events(at(0ms));
  CHECK(to_json_line(events[7]) ==
        R"({"schema_version":2,"time":"2026-11-22T10:35:03.023456Z","event":"denied","protocol":"tcp",)"
        R"("src":"10.248.0.2:40002","dst":"203.0.113.11:443","name":"tracker.evil.com",)"
        R"x("reason":"a deny rule matches the destination","policy":"deny-rule","rule":"*.evil.com (--deny)",)x"
        R"("process":{"pid":4242,"sandbox_pid":7,"command":"curl -s https://example.com"}})");
  CHECK(to_json_line(events[8]) ==
        R"({"schema_version":2,"time":"2026-11-22T10:35:03.073456Z","event":"warning","protocol":"tcp",)"
        R"("src":"10.248.0.2:40003","dst":"1.1.1.1:443","reason":"the tree talks to Cloudflare DNS over HTTPS )"
        R"((1.1.1.1:443): names it resolves there bypass name policy",)"
        R"("process":{"pid":4242,"sandbox_pid":7,"command":"curl -s https://example.com"}})");

  event dns = dns_denial("evil.com", "A", at(0ms));  // refused by the default: no rule
  dns.name = "evil.com";
  dns.policy = "not-allowed";
  dns.rule.clear();
  const auto back = from_json_line(to_json_line(dns));
  REQUIRE(back);
  check_same(*back, dns);
  CHECK(to_json_line(dns).find(R"("name":"evil.com","reason":"a deny rule matches the name","policy":"not-allowed",)"
                               R"("query":"evil.com")") != std::string::npos);
  CHECK(to_json_line(dns).find("\"rule\"") == std::string::npos);

  event open = events[2];  // an allowed flow under a policy
  open.policy = "allow-rule";
  open.rule = "10.0.0.0/8 (allow.txt:3)";
  check_same(from_json_line(to_json_line(open)).value(), open);
}

TEST_CASE("lines without policy fields (older logs) read as no policy", "[events]") {
  auto e = from_json_line(R"({"schema_version":1,"time":"2026-11-22T10:35:02Z","event":"denied","reason":"no"})");
  REQUIRE(e);
  CHECK(e->policy.empty());
  CHECK(e->rule.empty());
  CHECK(error_of(R"({"schema_version":1,"time":"2026-11-22T10:35:02Z","event":"denied","policy":7})") ==
        "bad-flow-log: \"policy\" is not a string");
  CHECK(error_of(R"({"schema_version":1,"time":"2026-11-22T10:35:02Z","event":"denied","rule":[]})") ==
        "bad-flow-log: \"rule\" is not a string");
  CHECK(kind_from_json_name("warning") == kind::warning);
  CHECK(json_name(kind::warning) == "warning");
}

TEST_CASE("a flow_close line, exactly", "[events]") {
  event e;
  e.what = kind::flow_close;
  e.time = at(0ms);
  e.protocol = "tcp";
  e.source = "10.248.0.2:40000";
  e.destination = "93.184.216.34:443";
  e.name = "example.com";
  e.via = "direct";
  e.bytes_out = 517;
  e.bytes_in = 3300;
  e.duration = 500ms;
  e.end = "closed";
  e.process = process_info{4242, 7, "curl -s https://example.com"};
  CHECK(to_json_line(e) ==
        R"({"schema_version":2,"time":"2026-11-22T10:35:02.123456Z","event":"flow_close","protocol":"tcp",)"
        R"("src":"10.248.0.2:40000","dst":"93.184.216.34:443","name":"example.com","via":"direct","bytes_out":517,)"
        R"("bytes_in":3300,"duration_ms":500,"end":"closed",)"
        R"("process":{"pid":4242,"sandbox_pid":7,"command":"curl -s https://example.com"}})");
}

TEST_CASE("what a flow claimed: sni and alpn, HTTP method, Host and path, exactly and back", "[events]") {
  event tls;
  tls.what = kind::flow_close;
  tls.time = at(0ms);
  tls.protocol = "tcp";
  tls.source = "10.248.0.2:40000";
  tls.destination = "203.0.113.10:443";
  tls.via = "direct";
  tls.sni = "web.lab.test";
  tls.alpn = {"h2", "http/1.1"};
  tls.bytes_out = 517;
  tls.duration = 5ms;
  tls.end = "closed";
  CHECK(to_json_line(tls) ==
        R"({"schema_version":2,"time":"2026-11-22T10:35:02.123456Z","event":"flow_close","protocol":"tcp",)"
        R"("src":"10.248.0.2:40000","dst":"203.0.113.10:443","via":"direct","sni":"web.lab.test",)"
        R"("alpn":["h2","http/1.1"],"bytes_out":517,"bytes_in":0,"duration_ms":5,"end":"closed"})");
  check_same(from_json_line(to_json_line(tls)).value(), tls);

  event http;
  http.what = kind::denied;
  http.time = at(0ms);
  http.protocol = "tcp";
  http.source = "10.248.0.2:40001";
  http.destination = "203.0.113.10:80";
  http.name = "evil.lab.test";
  http.reason = "not allowed: no allow rule matches";
  http.policy = "host-not-allowed";
  http.http_method = "GET";
  http.http_host = "evil.lab.test";
  http.http_path = "/x";
  const std::string line = to_json_line(http);
  CHECK(line.find(R"("policy":"host-not-allowed","http_method":"GET","http_host":"evil.lab.test","http_path":"/x"})") !=
        std::string::npos);
  CHECK(line.find("\"sni\"") == std::string::npos);   // empty fields are left out
  CHECK(line.find("\"alpn\"") == std::string::npos);
  check_same(from_json_line(line).value(), http);

  // A version 1 line (no claim fields) still reads, as a flow that claimed nothing.
  auto old = from_json_line(R"({"schema_version":1,"time":"2026-11-22T10:35:02Z","event":"flow_open","protocol":"tcp"})");
  REQUIRE(old);
  CHECK(old->sni.empty());
  CHECK(old->alpn.empty());
  CHECK(error_of(R"({"schema_version":2,"time":"2026-11-22T10:35:02Z","event":"flow_open","alpn":"h2"})") ==
        "bad-flow-log: \"alpn\" is not a list of strings");
  CHECK(error_of(R"({"schema_version":2,"time":"2026-11-22T10:35:02Z","event":"flow_open","sni":1})") ==
        "bad-flow-log: \"sni\" is not a string");
}

TEST_CASE("a dns_answer line, exactly: answers always present, empty fields left out", "[events]") {
  event e;
  e.what = kind::dns_answer;
  e.time = at(20ms);
  e.protocol = "dns";
  e.source = "10.248.0.2:51000";
  e.destination = "10.248.0.1:53";
  e.query = "nx.example.com";
  e.query_type = "AAAA";
  e.rcode = "NXDOMAIN";
  e.transport = "udp";
  CHECK(to_json_line(e) ==
        R"({"schema_version":2,"time":"2026-11-22T10:35:02.143456Z","event":"dns_answer","protocol":"dns",)"
        R"("src":"10.248.0.2:51000","dst":"10.248.0.1:53","query":"nx.example.com","query_type":"AAAA",)"
        R"("rcode":"NXDOMAIN","answers":[],"transport":"udp"})");
}

TEST_CASE("times are RFC 3339 UTC with microseconds", "[events]") {
  using namespace std::chrono;
  CHECK(format_time(system_clock::time_point{}) == "1970-01-01T00:00:00.000000Z");
  CHECK(format_time(at(0ms)) == "2026-11-22T10:35:02.123456Z");
  CHECK(format_time(at(0ms) + 999ns) == "2026-11-22T10:35:02.123456Z");  // truncated
  CHECK(format_time(sys_days{2024y / 2 / 29} + 23h + 59min + 59s + 999999us) == "2024-02-29T23:59:59.999999Z");

  auto parsed = parse_time("2026-11-22T10:35:02.123456Z");
  REQUIRE(parsed);
  CHECK(*parsed == at(0ms));
  CHECK(parse_time("2026-11-22T11:35:02.123456+01:00").value() == at(0ms));
  CHECK(parse_time("2026-11-22t10:35:02.123456z").value() == at(0ms));
  CHECK(parse_time("2026-11-22T10:35:02Z").value() == sys_days{2026y / 11 / 22} + 10h + 35min + 2s);
  CHECK(parse_time("2026-11-22T10:35:02.1234567891Z").value() ==
        sys_days{2026y / 11 / 22} + 10h + 35min + 2s + 123456789ns);
  for (const char* bad : {"", "2026-11-22", "2026-11-22T10:35:02", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
                          "2026-11-22T24:00:00Z", "2026-11-22T10:35:02.Z", "2026-11-22T10:35:02Zjunk",
                          "2026-11-22T10:35:02+0100", "26-11-22T10:35:02Z"}) {
    INFO(bad);
    auto r = parse_time(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == "bad-flow-log");
  }
}

TEST_CASE("bad lines are rejected with a reason", "[events]") {
  CHECK(error_of("{not json") == "bad-flow-log: not valid JSON");
  CHECK(error_of("[1,2]") == "bad-flow-log: not a JSON object");
  CHECK(error_of(R"({"time":"2026-11-22T10:35:02Z","event":"error"})") == "bad-flow-log: no \"schema_version\"");
  CHECK(error_of(R"({"schema_version":3,"time":"2026-11-22T10:35:02Z","event":"error"})") ==
        "flow-log-too-new: schema_version 3 is newer than this netpen reads (2); use a newer netpen");
  CHECK(error_of(R"({"schema_version":0,"time":"2026-11-22T10:35:02Z","event":"error"})") ==
        "bad-flow-log: \"schema_version\" is not a whole number of at least 1");
  CHECK(error_of(R"({"schema_version":1,"time":"2026-11-22T10:35:02Z"})") == "bad-flow-log: no \"event\"");
  CHECK(error_of(R"({"schema_version":1,"event":"error"})") == "bad-flow-log: no \"time\"");
  CHECK(error_of(R"({"schema_version":1,"time":"yesterday","event":"error"})") ==
        "bad-flow-log: \"yesterday\" is not an RFC 3339 time");
  CHECK(error_of(R"({"schema_version":1,"time":"2026-11-22T10:35:02Z","event":"teleport"})") ==
        "unknown-event: unknown event \"teleport\"");
  CHECK(error_of(R"({"schema_version":1,"time":"2026-11-22T10:35:02Z","event":"flow_close","bytes_in":-1})") ==
        "bad-flow-log: \"bytes_in\" is not a whole number of at least 0");
  CHECK(error_of(R"({"schema_version":1,"time":"2026-11-22T10:35:02Z","event":"denied","src":7})") ==
        "bad-flow-log: \"src\" is not a string");
  CHECK(error_of(R"({"schema_version":1,"time":"2026-11-22T10:35:02Z","event":"dns_answer","answers":[1]})") ==
        "bad-flow-log: \"answers\" is not a list of strings");
  CHECK(error_of(R"({"schema_version":1,"time":"2026-11-22T10:35:02Z","event":"error","process":{"pid":"x"}})") ==
        "bad-flow-log: \"process\": \"pid\" is not a whole number");
  CHECK(error_of(good_start) == "bad-flow-log: \"run_start\" is not a flow event");
}

TEST_CASE("unknown fields are ignored, nulls are absent", "[events]") {
  auto e = from_json_line(
      R"({"schema_version":1,"time":"2026-11-22T10:35:02Z","event":"denied","protocol":"udp","name":null,)"
      R"("colour":"blue","future":{"nested":[1,2]},"reason":"no"})");
  REQUIRE(e);
  CHECK(e->what == kind::denied);
  CHECK(e->protocol == "udp");
  CHECK_FALSE(e->name);
  CHECK(e->reason == "no");
}

TEST_CASE("strings that are not UTF-8 are written with U+FFFD, control characters escaped", "[events]") {
  event e;
  e.what = kind::dns_query;
  e.time = at(0ms);
  e.query = std::string("bad\xff\x1b[31m.example");
  const std::string line = to_json_line(e);
  CHECK(line.find("bad\xEF\xBF\xBD\\u001b[31m.example") != std::string::npos);
  CHECK(from_json_line(line));
}

TEST_CASE("run_start and run_end lines, exactly and back", "[events]") {
  run_info info;
  info.netpen_version = "0.1.0";
  info.backend = "rootless";
  info.command = "curl -s https://example.com";
  info.controls = {"dns 203.0.113.53", "proxy http://u:***@h:1", "proxy-only"};
  info.capture = "/tmp/run.pcapng";
  info.time = at(-12ms);
  CHECK(run_start_line(info) ==
        R"({"schema_version":2,"time":"2026-11-22T10:35:02.111456Z","event":"run_start","netpen_version":"0.1.0",)"
        R"("backend":"rootless","command":"curl -s https://example.com",)"
        R"("controls":["dns 203.0.113.53","proxy http://u:***@h:1","proxy-only"],"capture":"/tmp/run.pcapng"})");
  run_end end{137, 1234ms, at(1222ms)};
  CHECK(run_end_line(end) ==
        R"({"schema_version":2,"time":"2026-11-22T10:35:03.345456Z","event":"run_end","exit_status":137,)"
        R"("duration_ms":1234})");

  auto start_back = parse_record(run_start_line(info));
  REQUIRE(start_back);
  const auto& i = std::get<run_info>(*start_back);
  CHECK(i.netpen_version == info.netpen_version);
  CHECK(i.backend == info.backend);
  CHECK(i.command == info.command);
  CHECK(i.controls == info.controls);
  CHECK(i.capture == info.capture);
  CHECK(i.time == info.time);
  auto end_back = parse_record(run_end_line(end));
  REQUIRE(end_back);
  CHECK(std::get<run_end>(*end_back).exit_status == 137);
  CHECK(std::get<run_end>(*end_back).duration == 1234ms);
  CHECK(std::get<run_end>(*end_back).time == end.time);
}

TEST_CASE("parse_log reads a whole log", "[events]") {
  std::string text = good_start + "\n";
  for (const auto& e : sample_events(at(0ms))) text += to_json_line(e) + "\n";
  text += "\n" + good_end + "\n";
  std::istringstream in(text);
  auto log = parse_log(in);
  REQUIRE(log);
  REQUIRE(log->start);
  CHECK(log->start->command == "curl x");
  REQUIRE(log->events.size() == sample_events(at(0ms)).size());
  CHECK(log->events[7].rule == "*.evil.com (--deny)");
  CHECK(log->events[8].what == kind::warning);
  REQUIRE(log->end);
  CHECK(log->end->exit_status == 3);
  CHECK(log->skipped == 0);
  CHECK_FALSE(log->truncated);
}

TEST_CASE("parse_log names the bad line", "[events]") {
  auto error_at = [](const std::string& text) {
    std::istringstream in(text);
    auto r = parse_log(in);
    return r ? std::string("<no error>") : r.error().message;
  };
  CHECK(error_at(good_start + "\n" + good_event + "\n\n{oops}\n" + good_end + "\n") == "line 4: not valid JSON");
  CHECK(error_at(good_start + "\n" + R"({"schema_version":3,"time":"2026-11-22T10:35:02Z","event":"error"})" + "\n") ==
        "line 2: schema_version 3 is newer than this netpen reads (2); use a newer netpen");
  CHECK(error_at(good_event + "\n" + good_start + "\n") == "line 2: run_start is not the first record");
  CHECK(error_at(good_start + "\n" + good_end + "\n" + good_event + "\n") == "line 3: a record after run_end");
  CHECK(error_at("") == "the flow log is empty");
  CHECK(error_at("\n  \n") == "the flow log is empty");
}

TEST_CASE("parse_log skips unknown event kinds and a cut-off last line", "[events]") {
  std::istringstream in(good_start + "\n" +
                        R"({"schema_version":1,"time":"2026-11-22T10:35:02Z","event":"quantum_tunnel"})" + "\n" +
                        good_event + "\n" + R"({"schema_version":1,"time":"2026-11-22T10:3)");
  auto log = parse_log(in);
  REQUIRE(log);
  CHECK(log->skipped == 1);
  CHECK(log->truncated);
  CHECK(log->events.size() == 1);
  CHECK_FALSE(log->end);

  // A whole last line without its newline is not cut off.
  std::istringstream whole(good_start + "\n" + good_event);
  auto log2 = parse_log(whole);
  REQUIRE(log2);
  CHECK_FALSE(log2->truncated);
  CHECK(log2->events.size() == 1);
}
