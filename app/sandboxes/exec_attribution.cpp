// Owner -> exec attribution (see exec_attribution.hpp).
#include "app/sandboxes/exec_attribution.hpp"

#include <fstream>
#include <sstream>
#include <string>

#include <fmt/format.h>

namespace netpen::app::sandboxes {

std::optional<std::uint64_t> exec_of(pid_t owner, pid_t init_pid,
                                     const std::function<std::optional<process_link>(pid_t)>& link_of,
                                     const std::map<pid_t, std::uint64_t>& exec_by_sandbox_pid) {
  pid_t p = owner;
  for (int depth = 0; depth < max_attribution_depth && p > 0 && p != init_pid; ++depth) {
    const auto link = link_of(p);
    if (!link) return std::nullopt;
    if (auto it = exec_by_sandbox_pid.find(link->sandbox_pid); it != exec_by_sandbox_pid.end()) return it->second;
    p = link->parent;
  }
  return std::nullopt;
}

std::optional<process_link> read_process_link(pid_t pid) {
  process_link link;
  {
    std::ifstream stat(fmt::format("/proc/{}/stat", pid));
    std::string text;
    if (!std::getline(stat, text)) return std::nullopt;
    // "pid (comm) state ppid ...": comm may hold spaces and ')', so from the last ')'.
    const auto close = text.rfind(')');
    if (close == std::string::npos) return std::nullopt;
    std::istringstream rest(text.substr(close + 1));
    char state = 0;
    if (!(rest >> state >> link.parent)) return std::nullopt;
  }
  std::ifstream status(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(status, line)) {
    if (!line.starts_with("NSpid:")) continue;
    std::istringstream fields(line.substr(6));
    pid_t v = 0;
    while (fields >> v) link.sandbox_pid = v;
    return link.sandbox_pid > 0 ? std::optional(link) : std::nullopt;
  }
  return std::nullopt;
}

}  // namespace netpen::app::sandboxes
