// Diagnostic output on stderr: `netpen: error: ...`, warnings, and debug
// lines enabled by NETPEN_DEBUG=1 or -v. Thread-safe (one write per line).
#pragma once
#include <fmt/format.h>

#include <string_view>

namespace netpen::log {

enum class level { quiet = 0, normal = 1, verbose = 2, debug = 3 };

void set_level(level l);
level current_level();
bool debug_enabled();

// Writes one whole line to stderr with a single write(2).
void write_line(std::string_view line);

template <class... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
  write_line(fmt::format("netpen: error: {}", fmt::format(f, std::forward<Args>(args)...)));
}
template <class... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
  if (current_level() >= level::normal)
    write_line(fmt::format("netpen: warning: {}", fmt::format(f, std::forward<Args>(args)...)));
}
template <class... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  if (current_level() >= level::verbose)
    write_line(fmt::format("netpen: {}", fmt::format(f, std::forward<Args>(args)...)));
}
template <class... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
  if (debug_enabled())
    write_line(fmt::format("netpen: debug: {}", fmt::format(f, std::forward<Args>(args)...)));
}

}  // namespace netpen::log
