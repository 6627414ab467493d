// The --analyse live lines: one aligned line per event for stderr, coloured
// only when asked, consecutive duplicates folded. Pure formatting; the
// caller decides colour (want_colour) and writes the lines.
//
//   0.012s DNS   udp    10.248.0.2:51000      -> 10.248.0.1:53  example.com A?  [4242 curl -s https://example.com]
//   0.037s OPEN  tcp    10.248.0.2:40000      -> example.com (93.184.216.34:443)  [4242 curl -s https://example.com]
//   0.537s CLOSE tcp    10.248.0.2:40000      -> example.com (93.184.216.34:443)  closed, 517 B out, 3.2 KiB in, 500 ms  [4242 curl ...]
//   0.612s DENY  udp    10.248.0.2:5353       -> 203.0.113.10:7  --proxy-only: only TCP through the proxy may leave  [4250 nc ...]
//   (repeated 4 times)
//   0.700s DENY  tcp    10.248.0.2:40002      -> 203.0.113.11:80  not-allowed  [4251 curl ...]
//   0.710s DENY  dns    evil.com A  deny-rule *.evil.com (--deny)  [4251 curl ...]
//   0.800s WARN  tcp    10.248.0.2:40003      -> 1.1.1.1:443  the tree talks to Cloudflare DNS over HTTPS ...
//
// Policy denials show the decision's code and rule instead of the sentence;
// opens a policy allowed add theirs ("allow-rule web.lab.test (--allow)").
//
// Text from the tree (names, command lines) has its control characters
// escaped, so it cannot drive the terminal.
#pragma once
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include "net/events/event.hpp"

namespace netpen::events {

class live_formatter {
 public:
  explicit live_formatter(bool colour);

  // The text to write for `e` (no trailing newline), or nullopt when it
  // repeats the previous line (time aside) and is folded. When a different
  // line follows folded ones, the result is two lines: "  (repeated N
  // times)" (N = the lines folded), '\n', then the new line.
  std::optional<std::string> format(const event& e, std::chrono::system_clock::time_point run_start);

  // "  (repeated N times)" for lines folded since the last one printed, or
  // nullopt if none: call at the end of the run (and, if wanted, when the
  // stream has been quiet for a while). Later repeats keep folding.
  std::optional<std::string> flush_folded();

 private:
  std::string fold_note();

  bool colour_;
  std::string last_;  // the last line printed, without its time and colour
  bool have_last_ = false;
  std::size_t repeats_ = 0;
};

// True when lines for `fd` should be coloured: it is a terminal, NO_COLOR
// is unset or empty (no-color.org) and TERM is not "dumb".
bool want_colour(int fd);

}  // namespace netpen::events
