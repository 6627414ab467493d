// The flow log's JSON Lines records: writing and reading events, run_start
// and run_end, and whole logs (see json_event.hpp and docs/flow-log.md).
#include "net/events/json_event.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>

namespace netpen::events {
namespace {

using json = nlohmann::json;
using ordered = nlohmann::ordered_json;
using clock = std::chrono::system_clock;

unexpected<error> bad(std::string message) { return fail("bad-flow-log", std::move(message)); }

// Key order matters to people reading the log, hence ordered_json.
ordered record(std::string_view name, clock::time_point t) {
  ordered j;
  j["schema_version"] = flow_log_schema_version;
  j["time"] = format_time(t);
  j["event"] = std::string(name);
  return j;
}

void put_text(ordered& j, const char* key, const std::string& value) {
  if (!value.empty()) j[key] = value;
}

std::string dump(const ordered& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Reads typed fields out of one record, keeping the first problem found.
// Absent and null fields leave the destination untouched.
class fields {
 public:
  explicit fields(const json& j) : j_(j) {}

  void text(const char* key, std::string& out) {
    if (const json* v = find(key)) {
      if (v->is_string()) out = v->get<std::string>();
      else problem(key, "a string");
    }
  }
  void optional_text(const char* key, std::optional<std::string>& out) {
    std::string value;
    if (find(key) == nullptr) return;
    text(key, value);
    out = std::move(value);
  }
  void texts(const char* key, std::vector<std::string>& out) {
    const json* v = find(key);
    if (v == nullptr) return;
    if (!v->is_array()) return problem(key, "a list of strings");
    for (const auto& item : *v) {
      if (!item.is_string()) return problem(key, "a list of strings");
      out.push_back(item.get<std::string>());
    }
  }
  void count(const char* key, std::uint64_t& out) {
    if (const json* v = find(key)) {
      if (v->is_number_unsigned()) out = v->get<std::uint64_t>();
      else problem(key, "a whole number of at least 0");
    }
  }
  void millis(const char* key, std::chrono::milliseconds& out) {
    std::uint64_t ms = 0;
    if (find(key) == nullptr) return;
    count(key, ms);
    if (ms > static_cast<std::uint64_t>(std::numeric_limits<std::chrono::milliseconds::rep>::max()))
      return problem(key, "a duration netpen can hold");
    out = std::chrono::milliseconds(static_cast<std::chrono::milliseconds::rep>(ms));
  }
  void integer(const char* key, int& out, const json* from = nullptr) {
    const json* v = from != nullptr ? from : find(key);
    if (v == nullptr) return;
    if (!v->is_number_integer() || v->get<std::int64_t>() < std::numeric_limits<int>::min() ||
        v->get<std::int64_t>() > std::numeric_limits<int>::max())
      return problem(key, "a whole number");
    out = static_cast<int>(v->get<std::int64_t>());
  }
  void process(const char* key, std::optional<process_info>& out) {
    const json* v = find(key);
    if (v == nullptr) return;
    if (!v->is_object()) return problem(key, "an object");
    process_info p;
    fields inner(*v);
    inner.integer("pid", p.pid);
    inner.integer("sandbox_pid", p.sandbox_pid);
    inner.text("command", p.command);
    if (inner.problem_) problem_ = "\"process\": " + *inner.problem_;
    out = std::move(p);
  }

  const std::optional<std::string>& problem() const { return problem_; }

 private:
  const json* find(const char* key) const {
    auto it = j_.find(key);
    return it == j_.end() || it->is_null() ? nullptr : &*it;
  }
  void problem(const char* key, const char* what) {
    if (!problem_) problem_ = fmt::format("\"{}\" is not {}", key, what);
  }

  const json& j_;
  std::optional<std::string> problem_;
};

result<event> read_event(const json& j, kind k, clock::time_point t) {
  event e;
  e.what = k;
  e.time = t;
  fields f(j);
  f.text("protocol", e.protocol);
  f.text("src", e.source);
  f.text("dst", e.destination);
  f.optional_text("name", e.name);
  f.text("reason", e.reason);
  f.text("policy", e.policy);
  f.text("rule", e.rule);
  f.text("via", e.via);
  f.text("direction", e.direction);
  f.text("sni", e.sni);
  f.texts("alpn", e.alpn);
  f.text("http_method", e.http_method);
  f.text("http_host", e.http_host);
  f.text("http_path", e.http_path);
  f.count("bytes_out", e.bytes_out);
  f.count("bytes_in", e.bytes_in);
  f.millis("duration_ms", e.duration);
  f.text("end", e.end);
  f.text("query", e.query);
  f.text("query_type", e.query_type);
  f.text("rcode", e.rcode);
  f.texts("answers", e.answers);
  f.text("transport", e.transport);
  f.process("process", e.process);
  if (f.problem()) return bad(*f.problem());
  return e;
}

result<run_info> read_run_start(const json& j, clock::time_point t) {
  run_info info;
  info.time = t;
  fields f(j);
  f.text("netpen_version", info.netpen_version);
  f.text("backend", info.backend);
  f.text("command", info.command);
  f.texts("argv", info.argv);
  f.texts("controls", info.controls);
  f.optional_text("capture", info.capture);
  if (f.problem()) return bad(*f.problem());
  return info;
}

result<run_end> read_run_end(const json& j, clock::time_point t) {
  run_end end;
  end.time = t;
  fields f(j);
  if (j.find("exit_status") == j.end()) return bad("run_end has no \"exit_status\"");
  f.integer("exit_status", end.exit_status);
  f.millis("duration_ms", end.duration);
  if (f.problem()) return bad(*f.problem());
  return end;
}

bool blank(std::string_view line) { return line.find_first_not_of(" \t\r") == std::string_view::npos; }

}  // namespace

std::string format_time(clock::time_point t) {
  using namespace std::chrono;
  const auto us = floor<microseconds>(t);
  const auto day = floor<days>(us);
  const year_month_day ymd{day};
  const hh_mm_ss<microseconds> hms{us - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), hms.hours().count(),
                     hms.minutes().count(), hms.seconds().count(), hms.subseconds().count());
}

result<clock::time_point> parse_time(std::string_view s) {
  using namespace std::chrono;
  std::size_t i = 0;
  auto digits = [&](std::size_t n, int& out) {
    if (i + n > s.size()) return false;
    int v = 0;
    for (std::size_t k = 0; k < n; ++k) {
      const char c = s[i + k];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    i += n;
    out = v;
    return true;
  };
  auto literal = [&](std::string_view any_of) {
    if (i >= s.size() || any_of.find(s[i]) == std::string_view::npos) return false;
    ++i;
    return true;
  };
  int year = 0, month = 0, mday = 0, hour = 0, minute = 0, second = 0;
  bool ok = digits(4, year) && literal("-") && digits(2, month) && literal("-") && digits(2, mday) &&
            literal("Tt ") && digits(2, hour) && literal(":") && digits(2, minute) && literal(":") &&
            digits(2, second);
  std::int64_t nanos = 0;
  if (ok && literal(".")) {
    std::size_t n = 0;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, ++n)
      if (n < 9) nanos = nanos * 10 + (s[i] - '0');
    ok = n > 0;
    for (; n < 9; ++n) nanos *= 10;
  }
  int offset_minutes = 0;
  if (ok && !literal("Zz")) {
    const bool minus = i < s.size() && s[i] == '-';
    int oh = 0, om = 0;
    ok = literal("+-") && digits(2, oh) && literal(":") && digits(2, om) && oh < 24 && om < 60;
    offset_minutes = (minus ? -1 : 1) * (oh * 60 + om);
  }
  const year_month_day ymd{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                           std::chrono::day(static_cast<unsigned>(mday))};
  if (!ok || i != s.size() || !ymd.ok() || hour > 23 || minute > 59 || second > 60)
    return bad(fmt::format("\"{}\" is not an RFC 3339 time", s));
  // What the clock's nanoseconds in 64 bits hold (1677-09-21 to 2262-04-11);
  // beyond, the sum below would overflow. Found by fuzzing (fuzz_flow_log).
  constexpr int min_year = 1678, max_year = 2261;
  if (year < min_year || year > max_year)
    return bad(fmt::format("\"{}\" is outside the years {} to {}", s, min_year, max_year));
  const auto utc = sys_days(ymd) + hours(hour) + minutes(minute) + seconds(second) + nanoseconds(nanos) -
                   minutes(offset_minutes);
  return clock::time_point(duration_cast<clock::duration>(utc.time_since_epoch()));
}

std::string_view json_name(kind k) {
  switch (k) {
    case kind::dns_query: return "dns_query";
    case kind::dns_answer: return "dns_answer";
    case kind::flow_open: return "flow_open";
    case kind::flow_close: return "flow_close";
    case kind::denied: return "denied";
    case kind::proxy_failed: return "proxy_failed";
    case kind::error: return "error";
    case kind::warning: return "warning";
  }
  return "error";
}

std::optional<kind> kind_from_json_name(std::string_view name) {
  for (kind k : {kind::dns_query, kind::dns_answer, kind::flow_open, kind::flow_close, kind::denied,
                 kind::proxy_failed, kind::error, kind::warning})
    if (json_name(k) == name) return k;
  return std::nullopt;
}

std::string to_json_line(const event& e) {
  ordered j = record(json_name(e.what), e.time);
  put_text(j, "protocol", e.protocol);
  put_text(j, "src", e.source);
  put_text(j, "dst", e.destination);
  if (e.name) j["name"] = *e.name;
  put_text(j, "reason", e.reason);
  put_text(j, "policy", e.policy);
  put_text(j, "rule", e.rule);
  put_text(j, "via", e.via);
  put_text(j, "direction", e.direction);
  put_text(j, "sni", e.sni);
  if (!e.alpn.empty()) j["alpn"] = e.alpn;
  put_text(j, "http_method", e.http_method);
  put_text(j, "http_host", e.http_host);
  put_text(j, "http_path", e.http_path);
  // Flow counters always on a close; elsewhere only if someone set them.
  const bool close = e.what == kind::flow_close;
  if (close || e.bytes_out != 0) j["bytes_out"] = e.bytes_out;
  if (close || e.bytes_in != 0) j["bytes_in"] = e.bytes_in;
  if (close || e.duration.count() != 0) j["duration_ms"] = std::max<std::int64_t>(0, e.duration.count());
  put_text(j, "end", e.end);
  put_text(j, "query", e.query);
  put_text(j, "query_type", e.query_type);
  put_text(j, "rcode", e.rcode);
  if (e.what == kind::dns_answer || !e.answers.empty()) j["answers"] = e.answers;
  put_text(j, "transport", e.transport);
  if (e.process) {
    ordered p;
    p["pid"] = e.process->pid;
    p["sandbox_pid"] = e.process->sandbox_pid;
    p["command"] = e.process->command;
    j["process"] = std::move(p);
  }
  return dump(j);
}

std::string run_start_line(const run_info& info) {
  ordered j = record("run_start", info.time);
  j["netpen_version"] = info.netpen_version;
  j["backend"] = info.backend;
  j["command"] = info.command;
  if (!info.argv.empty()) j["argv"] = info.argv;
  j["controls"] = info.controls;
  if (info.capture) j["capture"] = *info.capture;
  return dump(j);
}

std::string run_end_line(const run_end& end) {
  ordered j = record("run_end", end.time);
  j["exit_status"] = end.exit_status;
  j["duration_ms"] = std::max<std::int64_t>(0, end.duration.count());
  return dump(j);
}

result<log_record> parse_record(std::string_view line) {
  const json j = json::parse(line.begin(), line.end(), nullptr, false);
  if (j.is_discarded()) return bad("not valid JSON");
  if (!j.is_object()) return bad("not a JSON object");

  auto version = j.find("schema_version");
  if (version == j.end()) return bad("no \"schema_version\"");
  if (!version->is_number_integer() || version->get<std::int64_t>() < 1)
    return bad("\"schema_version\" is not a whole number of at least 1");
  if (version->get<std::int64_t>() > flow_log_schema_version)
    return fail("flow-log-too-new",
                fmt::format("schema_version {} is newer than this netpen reads ({}); use a newer netpen",
                            version->get<std::int64_t>(), flow_log_schema_version));

  auto name = j.find("event");
  if (name == j.end()) return bad("no \"event\"");
  if (!name->is_string()) return bad("\"event\" is not a string");
  const std::string what = name->get<std::string>();

  auto time_field = j.find("time");
  if (time_field == j.end()) return bad("no \"time\"");
  if (!time_field->is_string()) return bad("\"time\" is not a string");
  auto t = parse_time(time_field->get<std::string>());
  if (!t) return unexpected<error>(t.error());

  if (what == "run_start") {
    auto info = read_run_start(j, *t);
    if (!info) return unexpected<error>(info.error());
    return log_record(std::move(*info));
  }
  if (what == "run_end") {
    auto end = read_run_end(j, *t);
    if (!end) return unexpected<error>(end.error());
    return log_record(*end);
  }
  auto k = kind_from_json_name(what);
  if (!k) return fail("unknown-event", fmt::format("unknown event \"{}\"", what));
  auto e = read_event(j, *k, *t);
  if (!e) return unexpected<error>(e.error());
  return log_record(std::move(*e));
}

result<event> from_json_line(std::string_view line) {
  auto r = parse_record(line);
  if (!r) return unexpected<error>(r.error());
  if (auto* e = std::get_if<event>(&*r)) return std::move(*e);
  return bad(fmt::format("\"{}\" is not a flow event", std::holds_alternative<run_info>(*r) ? "run_start" : "run_end"));
}

result<parsed_log> parse_log(std::istream& in) {
  parsed_log log;
  std::string line;
  std::size_t number = 0;
  bool any = false;
  auto at = [&](const error& e) { return fail(e.code, fmt::format("line {}: {}", number, e.message)); };
  while (std::getline(in, line)) {
    ++number;
    const bool unterminated = in.eof();
    if (blank(line)) continue;
    if (log.end) return at({"bad-flow-log", "a record after run_end"});
    auto r = parse_record(line);
    if (!r) {
      if (r.error().code == "unknown-event") {
        ++log.skipped;
        any = true;
        continue;
      }
      // netpen killed in the middle of a write: keep what came before.
      if (unterminated && !json::accept(line.begin(), line.end())) {
        log.truncated = true;
        break;
      }
      return at(r.error());
    }
    if (auto* info = std::get_if<run_info>(&*r)) {
      if (any) return at({"bad-flow-log", "run_start is not the first record"});
      log.start = std::move(*info);
    } else if (auto* e = std::get_if<event>(&*r)) {
      log.events.push_back(std::move(*e));
    } else {
      log.end = std::get<run_end>(*r);
    }
    any = true;
  }
  if (in.bad()) return bad("cannot read the flow log");
  if (!any && !log.truncated) return bad("the flow log is empty");
  return log;
}

}  // namespace netpen::events
