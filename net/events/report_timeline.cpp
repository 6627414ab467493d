// The HTML report's timeline (see report_html.hpp): flows matched open to
// close by protocol, source and destination, grouped by process; DNS
// questions matched to their answers by source, name and type.
#include <algorithm>
#include <deque>
#include <map>
#include <tuple>

#include "net/events/report_html.hpp"

namespace netpen::events {
namespace {

using clock = std::chrono::system_clock;
using key = std::tuple<std::string, std::string, std::string>;

std::string process_label(const event& e) {
  if (!e.process) return "unknown process";
  return "pid " + std::to_string(e.process->pid) + ": " + e.process->command;
}

std::string destination_label(const event& e) {
  if (!e.name || e.name->empty()) return e.destination;
  const auto colon = e.destination.rfind(':');
  const bool has_port = colon != std::string::npos && e.protocol != "icmp" && e.protocol != "icmpv6";
  return *e.name + (has_port ? e.destination.substr(colon) : std::string());
}

struct lanes_builder {
  std::map<std::string, timeline_lane> lanes;
  void add(const event& e, timeline_flow f) {
    auto& lane = lanes[process_label(e)];
    lane.process = process_label(e);
    lane.flows.push_back(std::move(f));
  }
};

timeline_flow flow_of(const event& e, clock::time_point start) {
  timeline_flow f;
  f.protocol = e.protocol;
  f.destination = destination_label(e);
  f.start = start;
  return f;
}

void add_dns(timeline& t, std::map<key, std::deque<std::size_t>>& pending, const event& e) {
  const key k{e.source, asked_name(e), e.query_type};
  if (e.what == kind::dns_query) {
    pending[k].push_back(t.dns.size());
    t.dns.push_back({e.time, e.process ? process_label(e) : std::string(), asked_name(e), e.query_type, "", {}});
    return;
  }
  auto it = pending.find(k);
  if (it == pending.end() || it->second.empty()) {  // an answer whose question the log lacks
    t.dns.push_back({e.time, e.process ? process_label(e) : std::string(), asked_name(e), e.query_type, e.rcode,
                     e.answers});
    return;
  }
  auto& row = t.dns[it->second.front()];
  it->second.pop_front();
  row.rcode = e.rcode;
  row.answers = e.answers;
  if (row.process.empty() && e.process) row.process = process_label(e);
}

}  // namespace

timeline build_timeline(const parsed_log& log) {
  timeline t;
  clock::time_point first = log.start ? log.start->time : clock::time_point::max();
  clock::time_point last = log.end ? log.end->time : clock::time_point::min();
  for (const auto& e : log.events) first = std::min(first, e.time), last = std::max(last, e.time);
  if (first == clock::time_point::max()) first = last = clock::time_point{};
  if (last <= first) last = first + std::chrono::milliseconds(1);
  t.begin = first;
  t.end = last;

  lanes_builder lanes;
  std::map<key, std::deque<const event*>> open;
  std::map<key, std::deque<std::size_t>> dns_pending;
  for (const auto& e : log.events) {
    const key k{e.protocol, e.source, e.destination};
    if (e.what == kind::dns_query || e.what == kind::dns_answer) add_dns(t, dns_pending, e);
    if (e.what == kind::flow_open) open[k].push_back(&e);
    if (e.what == kind::denied && !is_dns_denial(e)) {
      auto f = flow_of(e, e.time);
      f.end = "denied";
      lanes.add(e, std::move(f));
    }
    if (e.what != kind::flow_close) continue;
    auto& q = open[k];
    const event* opened = q.empty() ? nullptr : q.front();
    if (!q.empty()) q.pop_front();
    auto f = flow_of(opened && opened->process && !e.process ? *opened : e,
                     opened ? opened->time : e.time - e.duration);
    if (opened && f.destination == e.destination && opened->name) f.destination = destination_label(*opened);
    f.duration = e.duration;
    f.end = e.end;
    f.bytes_out = e.bytes_out;
    f.bytes_in = e.bytes_in;
    lanes.add(opened && opened->process && !e.process ? *opened : e, std::move(f));
  }
  for (const auto& [k, q] : open)
    for (const event* e : q) {
      auto f = flow_of(*e, e->time);
      f.duration = std::chrono::duration_cast<std::chrono::milliseconds>(t.end - e->time);
      f.end = "open";
      lanes.add(*e, std::move(f));
    }

  for (auto& [label, lane] : lanes.lanes) {
    std::ranges::stable_sort(lane.flows, {}, &timeline_flow::start);
    t.lanes.push_back(std::move(lane));
  }
  std::ranges::stable_sort(t.lanes, {}, [](const timeline_lane& l) { return l.flows.front().start; });
  return t;
}

}  // namespace netpen::events
