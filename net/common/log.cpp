// Implementation of the stderr diagnostic sink (see log.hpp).
#include "net/common/log.hpp"
#include "net/common/log_hold.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <string>

namespace netpen::log {
namespace {
std::atomic<level> g_level{[] {
  const char* d = std::getenv("NETPEN_DEBUG");
  return (d != nullptr && *d != '\0' && std::string_view(d) != "0") ? level::debug : level::normal;
}()};

// Held lines (log_hold.hpp): the mutex also orders a release's writes
// before later lines.
std::mutex g_hold_mutex;
int g_holds = 0;
std::deque<std::string> g_held;
std::size_t g_dropped = 0;

void write_whole(const std::string& buf) {
  const char* p = buf.data();
  size_t left = buf.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) return;
    p += n;
    left -= static_cast<size_t>(n);
  }
}
}  // namespace

void hold_lines() {
  const std::lock_guard lock(g_hold_mutex);
  ++g_holds;
}

void release_lines() {
  const std::lock_guard lock(g_hold_mutex);
  if (g_holds == 0 || --g_holds > 0) return;
  std::string out;
  for (auto& line : g_held) out += line;
  g_held.clear();
  if (g_dropped > 0) out += "netpen: " + std::to_string(g_dropped) + " line(s) dropped while the prompt was shown\n";
  g_dropped = 0;
  write_whole(out);
}

void set_level(level l) {
  if (g_level.load() == level::debug && l < level::debug) return;  // NETPEN_DEBUG wins
  g_level.store(l);
}
level current_level() { return g_level.load(); }
bool debug_enabled() { return g_level.load() >= level::debug; }

void write_line(std::string_view line) {
  std::string buf;
  buf.reserve(line.size() + 1);
  buf.append(line);
  buf.push_back('\n');
  const std::lock_guard lock(g_hold_mutex);
  if (g_holds > 0) {
    if (g_held.size() < max_held_lines)
      g_held.push_back(std::move(buf));
    else
      ++g_dropped;
    return;
  }
  write_whole(buf);
}

}  // namespace netpen::log
