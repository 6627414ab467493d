// The HTML report: escaping of hostile log contents, an empty log, a
// denial with its reason and rule, the timeline per process, DNS answers
// matched to questions, and a page that needs nothing from the network.
#include <catch2/catch.hpp>

#include <sstream>

#include "events_test_util.hpp"
#include "net/events/report_html.hpp"

using namespace std::chrono_literals;
namespace events = netpen::events;
using netpen::events_test::at;

namespace {

std::string html_of(const events::parsed_log& log) {
  events::summary_builder b;
  if (log.start) b.start(*log.start);
  for (const auto& e : log.events) b.add(e);
  if (log.end) b.finish(*log.end);
  return events::render_html(b.result(), log);
}

events::parsed_log sample_log() {
  events::parsed_log log;
  log.start = events::run_info{"0.1.0", "rootless", "sh -c 'curl web'", {"sh", "-c", "curl web"}, {}, std::nullopt, at(0us)};
  log.events = netpen::events_test::sample_events(at(1000us));
  log.end = events::run_end{3, 2s, at(2s)};
  return log;
}

std::size_t count(const std::string& text, std::string_view what) {
  std::size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("html: text from the log is escaped", "[events][html]") {
  CHECK(events::html_escape("<script>alert('x')</script> & \"q\"") ==
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;");
  CHECK(events::html_escape("a\x1b[31mb") == "a\\x1b[31mb");

  auto log = sample_log();
  log.start->command = "<script>document.title='pwned'</script>";
  log.start->controls = {"dns <img src=x onerror=alert(1)>"};
  for (auto& e : log.events) {
    if (e.process) e.process->command = "curl </span><script>bad()</script>";
    if (e.name) e.name = "<b>evil</b>.example";
    if (!e.query.empty()) e.query = "<i>q</i>.example";
    if (!e.reason.empty()) e.reason = "reason <script>x</script>";
  }
  const auto html = html_of(log);
  CHECK(count(html, "<script>") == 1);  // only the page's own
  CHECK(html.find("<img") == std::string::npos);
  CHECK(html.find("<b>evil") == std::string::npos);
  CHECK(html.find("<i>q") == std::string::npos);
  CHECK(html.find("&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;") != std::string::npos);
  CHECK(html.find("&lt;b&gt;evil&lt;/b&gt;.example") != std::string::npos);
}

TEST_CASE("html: an empty log still makes a whole page", "[events][html]") {
  const auto html = html_of(events::parsed_log{});
  CHECK(html.starts_with("<!DOCTYPE html>"));
  CHECK(html.ends_with("</html>\n"));
  CHECK(html.find("No flows.") != std::string::npos);
  CHECK(html.find("Nothing was denied.") != std::string::npos);
  CHECK(html.find("unknown (the run did not finish)") != std::string::npos);
}

TEST_CASE("html: self-contained, nothing fetched", "[events][html]") {
  const auto html = html_of(sample_log());
  CHECK(html.find("default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'") != std::string::npos);
  CHECK(html.find("src=") == std::string::npos);
  CHECK(html.find("href=") == std::string::npos);
  CHECK(html.find("url(") == std::string::npos);
  CHECK(html.find("@import") == std::string::npos);
  CHECK(html.find("https://example.com") != std::string::npos);  // the command's text, escaped, not a link
}

TEST_CASE("html: a denial shows its reason, policy and rule", "[events][html]") {
  const auto html = html_of(sample_log());
  CHECK(html.find("<section id=\"denials\">") != std::string::npos);
  CHECK(html.find("a deny rule matches the destination") != std::string::npos);
  CHECK(html.find("deny-rule") != std::string::npos);
  CHECK(html.find("*.evil.com (--deny)") != std::string::npos);
  CHECK(html.find("class=\"bar denied\"") != std::string::npos);
  CHECK(html.find("id=\"exit-status\">3<") != std::string::npos);
}

TEST_CASE("html: timeline per process, DNS questions with answers", "[events][html]") {
  const auto log = sample_log();
  const auto t = events::build_timeline(log);
  CHECK(t.begin == at(0us));
  CHECK(t.end == at(2s));
  REQUIRE_FALSE(t.lanes.empty());
  CHECK(t.lanes.front().process == "pid 4242: curl -s https://example.com");
  bool closed = false;
  for (const auto& lane : t.lanes)
    for (const auto& f : lane.flows)
      if (f.end == "closed" || f.end == "reset") closed = true;
  CHECK(closed);
  REQUIRE_FALSE(t.dns.empty());
  CHECK(t.dns.front().query == "example.com");
  CHECK(t.dns.front().rcode == "NOERROR");
  CHECK(t.dns.front().answers == std::vector<std::string>{"93.184.216.34", "93.184.216.35"});
  const auto html = html_of(log);
  CHECK(html.find("<h3>pid 4242: curl -s https://example.com</h3>") != std::string::npos);
  CHECK(html.find("93.184.216.34<br>93.184.216.35") != std::string::npos);
}
