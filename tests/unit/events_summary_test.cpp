// Unit tests for the run summary (text, JSON, Markdown) and for
// `netpen report`, which builds it from a saved flow log.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "app/report.hpp"
#include "cli_test_support.hpp"
#include "events_test_util.hpp"
#include "net/events/json_event.hpp"
#include "net/events/summary.hpp"

using namespace netpen::events;
using namespace std::chrono_literals;
using netpen::events_test::at;
using netpen::events_test::dns_denial;
using netpen::events_test::sample_events;

namespace {

run_info sample_run() {
  run_info info;
  info.netpen_version = "0.1.0";
  info.backend = "rootless";
  info.command = "curl -s https://example.com";
  info.controls = {"dns 203.0.113.53", "proxy-only"};
  info.capture = "/tmp/run.pcapng";
  info.time = at(-12ms);
  return info;
}

summary sample_summary(std::optional<run_end> end = run_end{0, 1234ms, at(1222ms)}) {
  summary_builder b;
  b.start(sample_run());
  for (const auto& e : sample_events(at(0ms))) b.add(e);
  if (end) b.finish(*end);
  return b.result();
}

event close_to(std::string destination, std::optional<std::string> name, std::uint64_t out, std::uint64_t in,
               std::string protocol = "tcp") {
  event e;
  e.what = kind::flow_close;
  e.time = at(0ms);
  e.protocol = std::move(protocol);
  e.source = "10.248.0.2:40000";
  e.destination = std::move(destination);
  e.name = std::move(name);
  e.bytes_out = out;
  e.bytes_in = in;
  e.end = "closed";
  return e;
}

event denial(std::string source, std::string destination, std::string reason) {
  event e;
  e.what = kind::denied;
  e.protocol = "udp";
  e.source = std::move(source);
  e.destination = std::move(destination);
  e.reason = std::move(reason);
  return e;
}

event policy_denial(std::string protocol, std::string destination, std::string code, std::string rule) {
  event e = denial("10.248.0.2:40000", std::move(destination), "not allowed by the policy");
  e.protocol = std::move(protocol);
  e.policy = std::move(code);
  e.rule = std::move(rule);
  return e;
}


std::string last_line(const std::string& text) {
  REQUIRE(text.ends_with('\n'));
  const auto start = text.rfind('\n', text.size() - 2);
  return text.substr(start == std::string::npos ? 0 : start + 1, text.size() - 1 - (start + 1));
}

}  // namespace

TEST_CASE("the text summary of a small run, exactly", "[events]") {
  CHECK(render_text(sample_summary()) == R"(netpen 0.1.0 run summary
  command   curl -s https://example.com
  backend   rootless
  controls  dns 203.0.113.53
            proxy-only
  capture   /tmp/run.pcapng
  duration  1.234 s

traffic
  protocol  flows  bytes out  bytes in
  tcp           1      517 B   3.2 KiB

dns: 1 query, 1 answer, 0 failed

destinations by bytes
  destination  port  protocol  flows  bytes out  bytes in
  example.com   443  tcp           1      517 B   3.2 KiB

denied: 2
  count  protocol  destination           policy     rule                 reason
      1  udp       203.0.113.10:7                                        UDP is not allowed with --proxy-only
      1  tcp       tracker.evil.com:443  deny-rule  *.evil.com (--deny)  a deny rule matches the destination

proxy failures: 1
  count  protocol  destination      reason                        via
      1  tcp       example.com:443  proxy answered 403 Forbidden  http://u:***@proxy.lab.test:3128

errors: 1
  count  reason
      1  cannot write the capture: No space left on device

warnings: 1
  count  protocol  destination  reason
      1  tcp       1.1.1.1:443  the tree talks to Cloudflare DNS over HTTPS (1.1.1.1:443): names it resolves there bypass name policy

exit status: 0
)");
}

TEST_CASE("the exit status is the last line, known or not", "[events]") {
  CHECK(last_line(render_text(sample_summary(run_end{3, 10ms, at(0ms)}))) == "exit status: 3");
  CHECK(last_line(render_text(sample_summary(std::nullopt))) == "exit status: unknown (the run did not finish)");
  CHECK(last_line(render_markdown(sample_summary(run_end{130, 10ms, at(0ms)}))) == "**exit status:** 130");

  summary_builder empty;
  const std::string text = render_text(empty.result());
  CHECK(text.find("command   unknown") != std::string::npos);
  CHECK(text.find("controls  none") != std::string::npos);
  CHECK(text.find("traffic: no flows") != std::string::npos);
  CHECK(text.find("dns: no queries") != std::string::npos);
  CHECK(last_line(text) == "exit status: unknown (the run did not finish)");
}

TEST_CASE("top destinations: ten, most bytes first, names over addresses", "[events]") {
  summary_builder b;
  for (int i = 1; i <= 12; ++i)
    b.add(close_to(fmt::format("198.51.100.{}:443", i), std::nullopt, static_cast<std::uint64_t>(i) * 100, 0));
  b.add(close_to("93.184.216.34:443", "example.com", 5000, 5000));
  b.add(close_to("93.184.216.35:443", "example.com", 1, 1));  // same name and port: one destination
  b.add(close_to("203.0.113.10", std::nullopt, 64, 64, "icmp"));
  const summary s = b.result();
  CHECK(s.destinations == 14);
  REQUIRE(s.top_destinations.size() == 10);
  CHECK(s.top_destinations[0].host == "example.com");
  CHECK(s.top_destinations[0].address == "93.184.216.34");
  CHECK(s.top_destinations[0].flows == 2);
  CHECK(s.top_destinations[0].bytes_out == 5001);
  CHECK(s.top_destinations[1].host == "198.51.100.12");
  CHECK(s.top_destinations[1].port == 443);
  CHECK(s.top_destinations[9].host == "198.51.100.4");
  for (std::size_t i = 1; i < s.top_destinations.size(); ++i) {
    const auto& prev = s.top_destinations[i - 1];
    const auto& cur = s.top_destinations[i];
    CHECK(prev.bytes_out + prev.bytes_in >= cur.bytes_out + cur.bytes_in);
  }
  const std::string text = render_text(s);
  CHECK(text.find("top destinations by bytes (10 of 14)") != std::string::npos);
  INFO(text);
  CHECK(text.find("  example.com     443  tcp           2    4.9 KiB   4.9 KiB\n") != std::string::npos);
}

TEST_CASE("ICMP and IPv6 destinations", "[events]") {
  summary_builder b;
  b.add(close_to("203.0.113.10", std::nullopt, 64, 64, "icmp"));
  b.add(close_to("[2001:db8::10]:443", std::nullopt, 1, 2));
  b.add(close_to("2001:db8::10", std::nullopt, 8, 8, "icmpv6"));
  const summary s = b.result();
  REQUIRE(s.top_destinations.size() == 3);
  CHECK(s.top_destinations[0].host == "203.0.113.10");
  CHECK_FALSE(s.top_destinations[0].port);
  CHECK(s.top_destinations[1].host == "2001:db8::10");
  CHECK(s.top_destinations[1].protocol == "icmpv6");
  CHECK_FALSE(s.top_destinations[1].port);
  CHECK(s.top_destinations[2].address == "2001:db8::10");
  CHECK(s.top_destinations[2].port == 443);
}

TEST_CASE("flows count once: an open with its close, a lone open, a lone close", "[events]") {
  summary_builder b;
  event open;
  open.what = kind::flow_open;
  open.protocol = "tcp";
  open.source = "10.248.0.2:40000";
  open.destination = "93.184.216.34:443";
  open.name = "example.com";
  b.add(open);
  event close = open;
  close.what = kind::flow_close;
  close.name.reset();  // the close inherits the open's name
  close.bytes_out = 10;
  b.add(close);
  open.source = "10.248.0.2:40001";
  b.add(open);  // never closed (the log was cut)
  b.add(close_to("198.51.100.1:80", std::nullopt, 5, 5));  // no open seen
  const summary s = b.result();
  REQUIRE(s.protocols.size() == 1);
  CHECK(s.protocols[0].flows == 3);
  CHECK(s.protocols[0].bytes_out == 15);
  REQUIRE(s.top_destinations.size() == 2);
  CHECK(s.top_destinations[0].host == "example.com");
  CHECK(s.top_destinations[0].flows == 2);
  CHECK(s.top_destinations[0].bytes_out == 10);
}

TEST_CASE("denials are grouped by destination and reason, most first", "[events]") {
  summary_builder b;
  b.add(denial("10.248.0.2:5353", "203.0.113.10:7", "UDP is not allowed with --proxy-only"));
  for (int port = 6000; port < 6003; ++port)
    b.add(denial(fmt::format("10.248.0.2:{}", port), "198.51.100.9:443", "UDP is not allowed with --proxy-only"));
  b.add(denial("10.248.0.2:5354", "203.0.113.10:7", "UDP is not allowed with --proxy-only"));
  b.add(denial("10.248.0.2:5355", "203.0.113.10:7", "blocked by --deny 203.0.113.0/24"));
  event named = denial("10.248.0.2:5356", "203.0.113.10:7", "blocked by --deny 203.0.113.0/24");
  named.name = "echo.lab.test";
  b.add(named);
  const summary s = b.result();
  REQUIRE(s.denials.size() == 4);
  CHECK(s.denials[0].destination == "198.51.100.9:443");
  CHECK(s.denials[0].count == 3);
  CHECK(s.denials[1].destination == "203.0.113.10:7");
  CHECK(s.denials[1].reason == "UDP is not allowed with --proxy-only");
  CHECK(s.denials[1].count == 2);
  CHECK(s.denials[2].reason == "blocked by --deny 203.0.113.0/24");
  CHECK(s.denials[3].destination == "echo.lab.test:7");
  const std::string text = render_text(s);
  CHECK(text.find("denied: 7\n") != std::string::npos);
  CHECK(text.find("      3  udp       198.51.100.9:443  UDP is not allowed with --proxy-only\n") != std::string::npos);
}

TEST_CASE("denials are grouped by policy code and rule, DNS denials by the name asked", "[events]") {
  summary_builder b;
  for (int i = 0; i < 3; ++i) b.add(policy_denial("tcp", "203.0.113.11:80", "not-allowed", ""));
  b.add(policy_denial("tcp", "203.0.113.11:80", "deny-rule", "203.0.113.0/24 (deny.txt:2)"));
  b.add(dns_denial("evil.com", "A", at(0ms)));
  b.add(dns_denial("evil.com", "AAAA", at(0ms)));  // the same name: one attempt (events/attempts.hpp)
  b.add(dns_denial("Evil.COM.", "A", at(1ms)));
  const summary s = b.result();
  REQUIRE(s.denials.size() == 3);  // most first
  CHECK(s.denials[0].policy == "not-allowed");
  CHECK(s.denials[0].rule.empty());
  CHECK(s.denials[0].count == 3);
  CHECK(s.denials[1].rule == "203.0.113.0/24 (deny.txt:2)");
  CHECK(s.denials[2].protocol == "dns");
  CHECK(s.denials[2].destination == "evil.com");
  CHECK(s.denials[2].count == 1);

  const std::string text = render_text(s);
  INFO(text);
  CHECK(text.find("denied: 5\n"
                  "  count  protocol  destination      policy       rule                         reason\n"
                  "      3  tcp       203.0.113.11:80  not-allowed                               not allowed by the "
                  "policy\n"
                  "      1  tcp       203.0.113.11:80  deny-rule    203.0.113.0/24 (deny.txt:2)  not allowed by the "
                  "policy\n"
                  "      1  dns       evil.com         deny-rule    *.evil.com (--deny)          a deny rule matches "
                  "the name\n") != std::string::npos);
  const auto j = nlohmann::json::parse(render_json(s));
  CHECK(j["denials"][0]["policy"] == "not-allowed");
  CHECK(j["denials"][0]["rule"] == "");
  CHECK(j["denials"][2]["rule"] == "*.evil.com (--deny)");
  CHECK(j["denials"][2]["count"] == 1);
  CHECK(render_markdown(s).find("| count | protocol | destination | policy | rule | reason |\n"
                                "|--:|---|---|---|---|---|\n"
                                "| 3 | tcp | 203.0.113.11:80 | not-allowed |  | not allowed by the policy |\n") !=
        std::string::npos);
}

TEST_CASE("warnings have a section of their own, empty sections are left out", "[events]") {
  summary_builder quiet;
  quiet.add(close_to("93.184.216.34:443", "example.com", 1, 1));
  const std::string text = render_text(quiet.result());
  for (const char* section : {"denied", "proxy failures", "errors", "warnings"}) {
    INFO(section);
    CHECK(text.find(std::string("\n") + section) == std::string::npos);
  }
  CHECK(render_markdown(quiet.result()).find("### Warnings") == std::string::npos);
  CHECK(nlohmann::json::parse(render_json(quiet.result()))["warnings"] == nlohmann::json::array());

  summary_builder b;
  const event warning = sample_events(at(0ms))[8];
  b.add(warning);
  b.add(warning);
  const summary s = b.result();
  REQUIRE(s.warnings.size() == 1);
  CHECK(s.warnings[0].count == 2);
  CHECK(s.warnings[0].destination == "1.1.1.1:443");
  CHECK(render_text(s).find("\nwarnings: 2\n"
                            "  count  protocol  destination  reason\n"
                            "      2  tcp       1.1.1.1:443  the tree") != std::string::npos);
  CHECK(render_markdown(s).find("### Warnings\n\n| count | protocol | destination | reason |\n") != std::string::npos);
  CHECK(nlohmann::json::parse(render_json(s))["warnings"][0]["count"] == 2);
  CHECK(s.denials.empty());
}

TEST_CASE("DNS failures are counted and grouped", "[events]") {
  summary_builder b;
  event answer;
  answer.what = kind::dns_answer;
  answer.query = "nx.example.com";
  answer.query_type = "A";
  answer.rcode = "NXDOMAIN";
  b.add(answer);
  b.add(answer);
  answer.rcode = "NOERROR";
  b.add(answer);
  answer.query = "broken.example";
  answer.rcode = "SERVFAIL";
  b.add(answer);
  const summary s = b.result();
  CHECK(s.dns_answers == 4);
  CHECK(s.dns_failed == 3);
  REQUIRE(s.dns_failures.size() == 2);
  CHECK(s.dns_failures[0].query == "nx.example.com");
  CHECK(s.dns_failures[0].count == 2);
  CHECK(render_text(s).find("      2  nx.example.com  A     NXDOMAIN\n") != std::string::npos);
}

TEST_CASE("the JSON summary carries everything", "[events]") {
  const auto j = nlohmann::json::parse(render_json(sample_summary()));
  CHECK(j["schema_version"] == 1);
  CHECK(j["command"] == "curl -s https://example.com");
  CHECK(j["controls"].size() == 2);
  CHECK(j["capture"] == "/tmp/run.pcapng");
  CHECK(j["duration_ms"] == 1234);
  CHECK(j["exit_status"] == 0);
  CHECK(j["events"] == 9);
  CHECK(j["protocols"][0]["bytes_in"] == 3300);
  CHECK(j["dns"]["queries"] == 1);
  CHECK(j["top_destinations"][0]["host"] == "example.com");
  CHECK(j["top_destinations"][0]["port"] == 443);
  CHECK(j["denials"][0]["count"] == 1);
  CHECK(j["denials"][1]["policy"] == "deny-rule");
  CHECK(j["denials"][1]["rule"] == "*.evil.com (--deny)");
  CHECK(j["warnings"][0]["destination"] == "1.1.1.1:443");
  CHECK(j["proxy_failures"][0]["via"] == "http://u:***@proxy.lab.test:3128");
  CHECK(j["errors"].size() == 1);
  const auto unfinished = nlohmann::json::parse(render_json(sample_summary(std::nullopt)));
  CHECK(unfinished["exit_status"].is_null());
  CHECK(unfinished["duration_ms"].is_null());
}

TEST_CASE("the Markdown summary: tables, escaped cells", "[events]") {
  summary_builder b;
  b.start(sample_run());
  b.add(denial("10.248.0.2:1", "203.0.113.10:7", "a|b <script>"));
  const std::string md = render_markdown(b.result());
  CHECK(md.starts_with("## netpen run summary\n\n- **command:** `curl -s https://example.com`\n"));
  CHECK(md.find("| count | protocol | destination | reason |\n|--:|---|---|---|\n") != std::string::npos);
  CHECK(md.find("| 1 | udp | 203.0.113.10:7 | a\\|b \\<script\\> |\n") != std::string::npos);
  CHECK(last_line(md) == "**exit status:** unknown (the run did not finish)");
}

TEST_CASE("report: a saved log through the subcommand's function", "[events]") {
  using netpen::app::render_report;
  using netpen::app::report_format;
  std::string log = run_start_line(sample_run()) + "\n";
  for (const auto& e : sample_events(at(0ms))) log += to_json_line(e) + "\n";
  log += run_end_line(run_end{0, 1234ms, at(1222ms)}) + "\n";
  netpen::app::cli_test::temp_file file(log);

  auto text = render_report(file.path(), report_format::text);
  REQUIRE(text);
  CHECK(text->text == render_text(sample_summary()));
  CHECK(text->warnings.empty());
  auto md = render_report(file.path(), report_format::markdown);
  REQUIRE(md);
  CHECK(md->text == render_markdown(sample_summary()));
  auto json = render_report(file.path(), report_format::json);
  REQUIRE(json);
  CHECK(json->text == render_json(sample_summary()));

  auto missing = render_report("/nonexistent/flow.jsonl", report_format::text);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message == "report: cannot read '/nonexistent/flow.jsonl': No such file or directory");

  netpen::app::cli_test::temp_file bad(run_start_line(sample_run()) + "\n{\"schema_version\":1}\n");
  auto broken = render_report(bad.path(), report_format::text);
  REQUIRE_FALSE(broken);
  CHECK(broken.error().code == "bad-flow-log");
  CHECK(broken.error().message == "report: '" + bad.path() + "', line 2: no \"event\"");

  // Killed mid-run: no run_end and a cut-off line; still a report, with warnings.
  netpen::app::cli_test::temp_file cut(run_start_line(sample_run()) + "\n" + to_json_line(sample_events(at(0ms))[3]) +
                                       "\n{\"schema_vers");
  auto partial = render_report(cut.path(), report_format::text);
  REQUIRE(partial);
  CHECK(last_line(partial->text) == "exit status: unknown (the run did not finish)");
  REQUIRE(partial->warnings.size() == 1);
  CHECK(partial->warnings[0] == "report: '" + cut.path() + "' ends in a cut-off line (ignored)");
}

namespace {

// A published port's flow: from the host client to the server in the sandbox.
event inbound_close(std::string destination, std::uint64_t out, std::uint64_t in, std::string protocol = "tcp") {
  event e = close_to(std::move(destination), std::nullopt, out, in, std::move(protocol));
  e.source = "127.0.0.1:51000";
  e.direction = "inbound";
  return e;
}

}  // namespace

TEST_CASE("inbound flows are marked in the destinations, apart from outbound ones", "[events]") {
  summary_builder b;
  b.add(close_to("10.248.0.2:8000", std::nullopt, 10, 20));
  b.add(inbound_close("10.248.0.2:8000", 300, 40));
  b.add(inbound_close("10.248.0.2:5353", 5, 6, "udp"));
  const auto s = b.result();
  REQUIRE(s.top_destinations.size() == 3);
  CHECK(s.destinations == 3);
  CHECK(s.top_destinations[0].inbound);
  CHECK(s.top_destinations[0].bytes_out == 300);
  CHECK_FALSE(s.top_destinations[1].inbound);
  CHECK(s.top_destinations[2].inbound);
  const std::string text = render_text(s);
  CHECK(text.find("  destination  port  protocol  flows  bytes out  bytes in  direction\n"
                  "  10.248.0.2   8000  tcp           1      300 B      40 B  inbound\n"
                  "  10.248.0.2   8000  tcp           1       10 B      20 B  outbound\n"
                  "  10.248.0.2   5353  udp           1        5 B       6 B  inbound\n") != std::string::npos);
  const std::string md = render_markdown(s);
  CHECK(md.find("| destination | port | protocol | flows | bytes out | bytes in | direction |\n"
                "|---|--:|---|--:|--:|--:|---|\n"
                "| 10.248.0.2 | 8000 | tcp | 1 | 300 B | 40 B | inbound |\n") != std::string::npos);
  const auto j = nlohmann::json::parse(render_json(s));
  CHECK(j["top_destinations"][0]["direction"] == "inbound");
  CHECK(j["top_destinations"][1]["direction"] == "outbound");
}

TEST_CASE("without inbound flows the destinations have no direction column", "[events]") {
  const auto s = sample_summary();
  CHECK(render_text(s).find("direction") == std::string::npos);
  CHECK(render_markdown(s).find("direction") == std::string::npos);
  CHECK(nlohmann::json::parse(render_json(s))["top_destinations"][0]["direction"] == "outbound");
}

namespace {

// A flow that claimed `sni` (TLS; QUIC when udp) or, with `host`, an HTTP Host.
event claimed_close(std::string source, std::string destination, std::string name, bool host, std::uint64_t out,
                    std::uint64_t in, std::string protocol = "tcp") {
  event e = close_to(std::move(destination), std::nullopt, out, in, std::move(protocol));
  e.source = std::move(source);
  if (host) {
    e.http_method = "GET";
    e.http_host = std::move(name);
    e.http_path = "/";
  } else {
    e.sni = std::move(name);
    e.alpn = {"h2"};
  }
  return e;
}

}  // namespace

TEST_CASE("claimed names by bytes: SNI, QUIC and HTTP Host, flows counted once", "[events]") {
  summary_builder b;
  b.start(sample_run());
  // Its open already claimed the name: the close adds bytes, not a flow.
  event open = claimed_close("10.248.0.2:40001", "203.0.113.10:443", "web.lab.test", false, 0, 0);
  open.what = kind::flow_open;
  b.add(open);
  b.add(claimed_close("10.248.0.2:40001", "203.0.113.10:443", "web.lab.test", false, 500, 9000));
  // An open that claimed nothing yet; the close says what it claimed.
  event bare_open = close_to("203.0.113.10:80", std::nullopt, 0, 0);
  bare_open.what = kind::flow_open;
  bare_open.source = "10.248.0.2:40002";
  b.add(bare_open);
  b.add(claimed_close("10.248.0.2:40002", "203.0.113.10:80", "web.lab.test", true, 100, 1000));
  b.add(claimed_close("10.248.0.2:40003", "203.0.113.20:443", "quic.lab.test", false, 1200, 20000, "udp"));
  // A close whose open claimed the name, the close itself nothing (an older netpen would not).
  event open2 = claimed_close("10.248.0.2:40004", "203.0.113.30:443", "small.lab.test", false, 0, 0);
  open2.what = kind::flow_open;
  b.add(open2);
  b.add(close_to("203.0.113.30:443", std::nullopt, 10, 20));  // source 10.248.0.2:40000: another flow
  event close2 = close_to("203.0.113.30:443", std::nullopt, 1, 2);
  close2.source = "10.248.0.2:40004";
  b.add(close2);
  const summary s = b.result();

  REQUIRE(s.names == 3);
  REQUIRE(s.top_names.size() == 3);
  CHECK(s.top_names[0].name == "quic.lab.test");
  CHECK(s.top_names[0].seen == std::vector<std::string>{"quic"});
  CHECK(s.top_names[0].flows == 1);
  CHECK(s.top_names[1].name == "web.lab.test");
  CHECK(s.top_names[1].seen == std::vector<std::string>{"sni", "host"});
  CHECK(s.top_names[1].flows == 2);
  CHECK(s.top_names[1].bytes_out == 600);
  CHECK(s.top_names[1].bytes_in == 10000);
  CHECK(s.top_names[2].name == "small.lab.test");
  CHECK(s.top_names[2].flows == 1);
  CHECK(s.top_names[2].bytes_out == 1);
  CHECK(s.top_names[2].bytes_in == 2);

  const std::string text = render_text(s);
  CHECK(text.find("\nclaimed names by bytes\n"
                  "  name            seen       flows  bytes out  bytes in\n"
                  "  quic.lab.test   quic           1    1.2 KiB  19.5 KiB\n"
                  "  web.lab.test    sni, host      2      600 B   9.8 KiB\n"
                  "  small.lab.test  sni            1        1 B       2 B\n") != std::string::npos);
  const auto j = nlohmann::json::parse(render_json(s));
  CHECK(j["claimed_names"] == 3);
  CHECK(j["top_claimed_names"][1]["name"] == "web.lab.test");
  CHECK(j["top_claimed_names"][1]["seen"] == nlohmann::json::array({"sni", "host"}));
  CHECK(j["top_claimed_names"][1]["flows"] == 2);
  CHECK(j["top_claimed_names"][1]["bytes_in"] == 10000);
  const std::string md = render_markdown(s);
  CHECK(md.find("\n### Claimed names\n\n| name | seen | flows | bytes out | bytes in |\n|---|---|--:|--:|--:|\n"
                "| quic.lab.test | quic | 1 | 1.2 KiB | 19.5 KiB |\n") != std::string::npos);

  // The same through a saved log and `netpen report`.
  std::string log = run_start_line(sample_run()) + "\n";
  log += to_json_line(open) + "\n" + to_json_line(claimed_close("10.248.0.2:40001", "203.0.113.10:443",
                                                                  "web.lab.test", false, 500, 9000)) + "\n";
  netpen::app::cli_test::temp_file file(log);
  auto report = netpen::app::render_report(file.path(), netpen::app::report_format::text);
  REQUIRE(report);
  CHECK(report->text.find("claimed names by bytes\n  name          seen  flows  bytes out  bytes in\n"
                          "  web.lab.test  sni       1      500 B   8.8 KiB\n") != std::string::npos);
}

TEST_CASE("claimed names: ten at most, the count of all, and no section without claims", "[events]") {
  summary_builder b;
  for (int i = 0; i < 12; ++i)
    b.add(claimed_close(fmt::format("10.248.0.2:{}", 41000 + i), "203.0.113.10:443", fmt::format("n{:02}.test", i),
                        false, 100 + static_cast<std::uint64_t>(i), 0));
  const summary s = b.result();
  CHECK(s.names == 12);
  REQUIRE(s.top_names.size() == top_name_count);
  CHECK(s.top_names.front().name == "n11.test");
  CHECK(render_text(s).find("\ntop claimed names by bytes (10 of 12)\n") != std::string::npos);
  CHECK(render_markdown(s).find("\n### Top claimed names (10 of 12)\n") != std::string::npos);

  CHECK(render_text(sample_summary()).find("claimed names") == std::string::npos);
  CHECK(render_markdown(sample_summary()).find("Claimed names") == std::string::npos);
  const auto j = nlohmann::json::parse(render_json(sample_summary()));
  CHECK(j["claimed_names"] == 0);
  CHECK(j["top_claimed_names"].empty());
}

TEST_CASE("denials on a claim show the name the flow claimed", "[events]") {
  summary_builder b;
  event fronted = policy_denial("tcp", "203.0.113.10:443", "sni-not-allowed", "");
  fronted.name = "web.lab.test";
  fronted.sni = "evil.lab.test";
  b.add(fronted);
  b.add(fronted);
  b.add(policy_denial("udp", "203.0.113.99:53", "not-allowed", ""));
  const summary s = b.result();
  REQUIRE(s.denials.size() == 2);
  CHECK(s.denials[0].claimed == "evil.lab.test");
  CHECK(s.denials[0].count == 2);
  CHECK(s.denials[1].claimed.empty());
  CHECK(render_text(s).find("\ndenied: 3\n"
                            "  count  protocol  destination       claimed        policy           reason\n"
                            "      2  tcp       web.lab.test:443  evil.lab.test  sni-not-allowed  not allowed by the "
                            "policy\n") != std::string::npos);
  const auto j = nlohmann::json::parse(render_json(s));
  CHECK(j["denials"][0]["claimed"] == "evil.lab.test");
  CHECK(j["denials"][1]["claimed"] == "");
  // Without claims the column is left out.
  CHECK(render_text(sample_summary()).find("claimed") == std::string::npos);
}
