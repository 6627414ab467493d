// Holding netpen's own stderr lines back while the --interactive prompt is
// on the terminal, so that no line lands in the middle of a question: while
// held, log::write_line queues its lines (at most max_held_lines, then it
// counts what it drops); release() writes them, in order, then a note of
// any dropped. Nested holds count; the last release writes. Thread-safe.
#pragma once
#include <cstddef>

namespace netpen::log {

inline constexpr std::size_t max_held_lines = 10000;

void hold_lines();
void release_lines();

// RAII: holds from construction to destruction.
class line_hold {
 public:
  line_hold() { hold_lines(); }
  ~line_hold() { release_lines(); }
  line_hold(const line_hold&) = delete;
  line_hold& operator=(const line_hold&) = delete;
};

}  // namespace netpen::log
