// Helpers for the [events] unit tests: a fixed clock, one event of every
// kind with every field that kind carries (and a policy denial), and a
// refused DNS query.
#pragma once
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "net/events/event.hpp"

namespace netpen::events_test {

// 2026-11-22T10:35:02.123456Z + offset.
inline std::chrono::system_clock::time_point at(std::chrono::microseconds offset) {
  using namespace std::chrono;
  return sys_days{year(2026) / 11 / 22} + 10h + 35min + 2s + 123456us + offset;
}

inline events::process_info curl() { return {4242, 7, "curl -s https://example.com"}; }

// A DNS query refused by "*.evil.com (--deny)".
inline events::event dns_denial(std::string query, std::string type, std::chrono::system_clock::time_point t) {
  events::event e;
  e.what = events::kind::denied;
  e.time = t;
  e.protocol = "dns";
  e.source = "10.248.0.2:51000";
  e.destination = "10.248.0.1:53";
  e.query = std::move(query);
  e.query_type = std::move(type);
  e.transport = "udp";
  e.reason = "a deny rule matches the name";
  e.policy = "deny-rule";
  e.rule = "*.evil.com (--deny)";
  return e;
}

inline std::vector<events::event> sample_events(std::chrono::system_clock::time_point t) {
  using namespace std::chrono_literals;
  using events::kind;
  std::vector<events::event> out;
  events::event q;
  q.what = kind::dns_query;
  q.time = t;
  q.protocol = "dns";
  q.source = "10.248.0.2:51000";
  q.destination = "10.248.0.1:53";
  q.query = "example.com";
  q.query_type = "A";
  q.transport = "udp";
  q.process = curl();
  out.push_back(q);

  events::event a = q;
  a.what = kind::dns_answer;
  a.time = t + 20ms;
  a.rcode = "NOERROR";
  a.answers = {"93.184.216.34", "93.184.216.35"};
  out.push_back(a);

  events::event open;
  open.what = kind::flow_open;
  open.time = t + 25ms;
  open.protocol = "tcp";
  open.source = "10.248.0.2:40000";
  open.destination = "93.184.216.34:443";
  open.name = "example.com";
  open.via = "direct";
  open.process = curl();
  out.push_back(open);

  events::event close = open;
  close.what = kind::flow_close;
  close.time = t + 525ms;
  close.bytes_out = 517;
  close.bytes_in = 3300;
  close.duration = 500ms;
  close.end = "closed";
  out.push_back(close);

  events::event denied;
  denied.what = kind::denied;
  denied.time = t + 600ms;
  denied.protocol = "udp";
  denied.source = "10.248.0.2:5353";
  denied.destination = "203.0.113.10:7";
  denied.reason = "UDP is not allowed with --proxy-only";
  denied.process = events::process_info{4250, 9, "nc -u 203.0.113.10 7"};
  out.push_back(denied);

  events::event proxy = open;
  proxy.what = kind::proxy_failed;
  proxy.time = t + 700ms;
  proxy.via = "http://u:***@proxy.lab.test:3128";
  proxy.reason = "proxy answered 403 Forbidden";
  out.push_back(proxy);

  events::event err;
  err.what = kind::error;
  err.time = t + 800ms;
  err.reason = "cannot write the capture: No space left on device";
  out.push_back(err);

  events::event policy = open;
  policy.what = kind::denied;
  policy.time = t + 900ms;
  policy.source = "10.248.0.2:40002";
  policy.destination = "203.0.113.11:443";
  policy.name = "tracker.evil.com";
  policy.via.clear();
  policy.reason = "a deny rule matches the destination";
  policy.policy = "deny-rule";
  policy.rule = "*.evil.com (--deny)";
  out.push_back(policy);

  events::event warning = open;
  warning.what = kind::warning;
  warning.time = t + 950ms;
  warning.source = "10.248.0.2:40003";
  warning.destination = "1.1.1.1:443";
  warning.name.reset();
  warning.via.clear();
  warning.reason =
      "the tree talks to Cloudflare DNS over HTTPS (1.1.1.1:443): names it resolves there bypass name policy";
  out.push_back(warning);
  return out;
}

}  // namespace netpen::events_test
