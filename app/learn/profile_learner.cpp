// Events -> learned profile (see profile_learner.hpp).
#include "app/learn/profile_learner.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "app/cli/policy_entry.hpp"
#include "app/cli/profiles/print_config.hpp"
#include "net/events/json_event.hpp"

namespace netpen::app::learn {
namespace {

constexpr std::array<std::string_view, 5> allowing{"", "allow-rule", "allowed-name", "default-allow",
                                                   "interactive-allow"};

std::string lower_name(std::string name) {
  std::ranges::transform(name, name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (!name.empty() && name.back() == '.') name.pop_back();
  return name;
}

// "web.example:8080" (an HTTP Host) -> "web.example"; "[v6]" stays.
std::string host_without_port(const std::string& host) {
  if (host.starts_with("[")) return "";  // an address literal: no name
  return host.substr(0, host.find(':'));
}

// "203.0.113.10:443" -> "443"; "[2001:db8::1]:443" -> "443"; "" for ICMP's bare address.
std::string port_of(const events::event& e) {
  if (e.protocol != "tcp" && e.protocol != "udp") return "";
  const auto colon = e.destination.rfind(':');
  const auto bracket = e.destination.rfind(']');
  if (colon == std::string::npos || (bracket != std::string::npos && colon < bracket)) return "";
  return e.destination.substr(colon + 1);
}

std::string process_name(const events::event& e) {
  if (!e.process || e.process->command.empty()) return "";
  std::string first = e.process->command.substr(0, e.process->command.find(' '));
  return first.substr(first.rfind('/') == std::string::npos ? 0 : first.rfind('/') + 1);
}

std::string flow_key(const events::event& e) { return e.protocol + " " + e.source + " " + e.destination; }

std::string join(const std::set<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

// Text from the log (a command, a name) in a comment line: control
// characters would end the comment and start TOML of the log's choosing.
std::string one_line(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  return out;
}

}  // namespace

profile_learner::use& profile_learner::entry(const std::string& text) {
  auto [it, inserted] = entries_.try_emplace(text);
  if (inserted) order_.push_back(text);
  return it->second;
}

// One allowed outbound flow, with what its open and close told.
void profile_learner::count(const events::event& e) {
  std::vector<std::string> names;
  for (const std::string& n : {e.name.value_or(""), e.sni, host_without_port(e.http_host)}) {
    std::string low = lower_name(n);
    if (!low.empty() && std::ranges::find(names, low) == names.end()) names.push_back(low);
  }
  const std::string port = port_of(e);
  std::vector<std::string> texts;
  for (const auto& n : names) texts.push_back(port.empty() ? n : n + ":" + port);
  if (texts.empty()) {
    std::string addr = e.destination;
    if (port.empty() && e.protocol != "icmp" && e.protocol != "icmpv6") addr = addr.substr(0, addr.rfind(':'));
    texts.push_back(addr);
  }
  for (const auto& t : texts) {
    use& u = entry(t);
    ++u.flows;
    u.protocols.insert(e.protocol);
    if (auto p = process_name(e); !p.empty()) u.processes.insert(p);
  }
}

void profile_learner::add(const events::event& e) {
  using events::kind;
  if (e.what == kind::dns_answer && e.rcode == "NOERROR" && !e.answers.empty()) {
    std::string n = lower_name(events::asked_name(e));
    if (!n.empty() && std::ranges::find(resolved_, n) == resolved_.end()) resolved_.push_back(n);
    return;
  }
  if (e.what == kind::denied) {
    std::string what =
        events::is_dns_denial(e) ? "dns " + events::asked_name(e) : e.protocol + " " + e.name.value_or(e.destination);
    what += " (" + (e.policy.empty() ? std::string("denied") : e.policy) + ")";
    if (std::ranges::find(denied_, what) == denied_.end()) denied_.push_back(what);
    if (!events::is_dns_denial(e)) {  // e.g. refused on its claim after an allowed open
      open_.erase(flow_key(e));
      refused_.insert(flow_key(e));
    }
    return;
  }
  if (e.what != kind::flow_open && e.what != kind::flow_close) return;
  if (e.direction == "inbound" || e.via == "host-port") return;
  const std::string key = flow_key(e);
  if (std::ranges::find(allowing, e.policy) == allowing.end()) {
    refused_.insert(key);
    return;
  }
  if (e.what == kind::flow_close && refused_.erase(key) > 0) return;
  if (e.what == kind::flow_open) refused_.erase(key);  // the 5-tuple reused
  if (e.what == kind::flow_open) {
    if (auto it = open_.find(key); it != open_.end()) count(it->second.open);  // a reused 5-tuple
    open_[key] = open_flow{e, opens_++};
    return;
  }
  auto it = open_.find(key);
  events::event merged = e;  // the close carries the claim; the open its name
  if (it != open_.end()) {
    if (!merged.name) merged.name = it->second.open.name;
    if (!merged.process) merged.process = it->second.open.process;
    open_.erase(it);
  }
  count(merged);
}

std::string profile_learner::render(const std::optional<events::run_info>& info) const {
  std::string out = "# A netpen profile learned from a run: it allows what the run reached, nothing else.\n";
  if (info) {
    out += "# run: " + events::format_time(info->time) + ", backend " + one_line(info->backend) + "\n";
    out += "# command: " + one_line(info->command) + "\n";
  }
  out += "# Enforce it: netpen --profile THIS_FILE -- COMMAND (docs/profiles.md)\n";
  out += "default-policy = \"deny\"\n";
  out += "allow = [\n";
  // Flows still open at the end of the log count as well.
  profile_learner all = *this;
  std::vector<const open_flow*> still_open;
  for (const auto& [key, flow] : open_) still_open.push_back(&flow);
  std::ranges::sort(still_open, {}, &open_flow::seq);
  for (const open_flow* flow : still_open) all.count(flow->open);
  // Only what --allow takes: a log (or a tree's odd name) can hold other text.
  std::size_t skipped = 0;
  const auto valid = [&](const std::string& text) {
    const bool ok = cli::parse_policy_entry(text).has_value();
    skipped += ok ? 0 : 1;
    return ok;
  };
  for (const auto& text : all.order_) {
    if (!valid(text)) continue;
    const use& u = all.entries_.at(text);
    out += fmt::format("  # {} {} flow{}{}\n", u.flows, one_line(join(u.protocols)), u.flows == 1 ? "" : "s",
                       u.processes.empty() ? "" : ", by " + one_line(join(u.processes)));
    out += "  " + cli::profiles::toml_quote(text) + ",\n";
  }
  for (const auto& name : all.resolved_) {
    const bool reached =
        std::ranges::any_of(all.order_, [&](const std::string& t) { return t == name || t.starts_with(name + ":"); });
    if (reached || !valid(name)) continue;
    out += "  # resolved, no connection seen\n";
    out += "  " + cli::profiles::toml_quote(name) + ",\n";
  }
  out += "]\n";
  if (skipped > 0) out += fmt::format("# {} destination{} of the log skipped: not an --allow entry\n", skipped, skipped == 1 ? "" : "s");
  if (!denied_.empty()) {
    out += "# Denied during that run (not allowed here):\n";
    for (const auto& d : denied_) out += "#   " + one_line(d) + "\n";
  }
  return out;
}

}  // namespace netpen::app::learn
