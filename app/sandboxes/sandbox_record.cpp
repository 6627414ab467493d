// The sandbox record and the list's forms (see sandbox_record.hpp).
#include "app/sandboxes/sandbox_record.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <ctime>

namespace netpen::app::sandboxes {

std::string render_record(const sandbox_record& r) {
  nlohmann::json j{{"schema_version", 1},       {"name", r.name},
                   {"backend", r.backend},       {"owner_uid", r.owner_uid},
                   {"owner", r.owner},           {"created_unix", r.created_unix},
                   {"daemon_pid", r.daemon_pid}, {"init_pid", r.init_pid},
                   {"policy", r.policy},         {"rootful_run", r.rootful_run}};
  if (r.exec_group) j["exec_group"] = *r.exec_group;
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

result<sandbox_record> parse_record(std::string_view text) {
  try {
    const auto j = nlohmann::json::parse(text);
    if (j.at("schema_version").get<int>() != 1) return fail("bad-record", "an unknown record version");
    sandbox_record r;
    r.name = j.at("name").get<std::string>();
    r.backend = j.at("backend").get<std::string>();
    r.owner_uid = j.at("owner_uid").get<uid_t>();
    r.owner = j.at("owner").get<std::string>();
    r.created_unix = j.at("created_unix").get<std::int64_t>();
    r.daemon_pid = j.at("daemon_pid").get<pid_t>();
    r.init_pid = j.at("init_pid").get<pid_t>();
    r.policy = j.at("policy").get<std::string>();
    r.rootful_run = j.value("rootful_run", std::string());
    if (j.contains("exec_group")) r.exec_group = j.at("exec_group").get<std::string>();
    if (r.backend != "rootless" && r.backend != "rootful") return fail("bad-record", "an unknown backend");
    return r;
  } catch (const nlohmann::json::exception& e) {
    return fail("bad-record", std::string("a corrupt record: ") + e.what());
  }
}

std::string utc_time(std::int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string render_list_text(const std::vector<listed_sandbox>& list) {
  if (list.empty()) return "no sandboxes\n";
  std::size_t name_w = 4, owner_w = 5;
  for (const auto& s : list) {
    name_w = std::max(name_w, s.record.name.size());
    owner_w = std::max(owner_w, s.record.owner.size());
  }
  std::string out = fmt::format("{:<{}}  {:<5}  {:<8}  {:<{}}  {:<20}  {:>9}  {}\n", "NAME", name_w, "STATE",
                                "BACKEND", "OWNER", owner_w, "CREATED", "PROCESSES", "POLICY");
  for (const auto& s : list) {
    const auto& r = s.record;
    const std::string procs = s.processes ? std::to_string(*s.processes) : "-";
    out += fmt::format("{:<{}}  {:<5}  {:<8}  {:<{}}  {:<20}  {:>9}  {}\n", r.name, name_w, s.live ? "live" : "dead",
                       r.backend, r.owner, owner_w, utc_time(r.created_unix), procs, r.policy);
  }
  return out;
}

std::string render_list_json(const std::vector<listed_sandbox>& list) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& s : list) {
    const auto& r = s.record;
    nlohmann::json j{{"name", r.name},
                     {"state", s.live ? "live" : "dead"},
                     {"backend", r.backend},
                     {"owner", r.owner},
                     {"owner_uid", r.owner_uid},
                     {"created", utc_time(r.created_unix)},
                     {"processes", s.processes ? nlohmann::json(*s.processes) : nlohmann::json(nullptr)},
                     {"policy", r.policy},
                     {"daemon_pid", r.daemon_pid},
                     {"init_pid", r.init_pid}};
    if (r.exec_group) j["exec_group"] = *r.exec_group;
    arr.push_back(std::move(j));
  }
  return arr.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace netpen::app::sandboxes
