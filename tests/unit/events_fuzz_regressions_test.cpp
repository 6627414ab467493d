// Flow-log reader cases found by fuzz/fuzz_flow_log.cpp, each with the
// input file that found it (fuzz/corpus/flow_log/, replayed by every fuzz
// run). The unit suite sees the wrong result; the fuzz build (UBSan) saw
// the undefined behaviour behind it.
#include <catch2/catch.hpp>

#include <sstream>

#include "net/events/json_event.hpp"

using namespace netpen::events;

// regress-year-1013: the doc's example log with the dns_query's time in
// year 1013. Its seconds times 10^9 overflowed the clock's 64-bit
// nanoseconds (signed overflow, undefined) and the log was read with a
// wrapped-around time instead of being refused.
TEST_CASE("fuzz: a time outside the clock's range is refused, not wrapped", "[events][fuzz]") {
  for (const char* t : {"1013-11-22T10:35:02.123456Z", "1677-12-31T23:59:59Z", "2262-01-01T00:00:00Z",
                        "9999-12-31T23:59:59Z", "0000-01-01T00:00:00Z"}) {
    INFO(t);
    const auto r = parse_time(t);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == "bad-flow-log");
  }
  CHECK(parse_time("1678-01-01T00:00:00Z").has_value());
  CHECK(parse_time("2261-12-31T23:59:59.999999Z").has_value());
  std::istringstream log(
      "{\"schema_version\":2,\"time\":\"1013-11-22T10:35:02.123456Z\",\"event\":\"dns_query\",\"protocol\":\"dns\","
      "\"src\":\"10.248.0.2:51000\",\"dst\":\"10.248.0.1:53\",\"query\":\"example.com\",\"query_type\":\"A\","
      "\"transport\":\"udp\"}\n");
  const auto parsed = parse_log(log);
  REQUIRE_FALSE(parsed);
  CHECK(parsed.error().message.find("line 1") != std::string::npos);
}
