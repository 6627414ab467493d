// Implementation of the stderr diagnostic sink (see log.hpp).
#include "net/common/log.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>

namespace netpen::log {
namespace {
std::atomic<level> g_level{[] {
  const char* d = std::getenv("NETPEN_DEBUG");
  return (d != nullptr && *d != '\0' && std::string_view(d) != "0") ? level::debug : level::normal;
}()};
}  // namespace

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
  const char* p = buf.data();
  size_t left = buf.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) return;
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace netpen::log
