// The words of the --interactive prompt, and which key means what. Pure:
// the terminal I/O is in terminal_approver.cpp.
//
// Text from the sandbox (the command line, names it resolved) is untrusted:
// control characters are shown as '?', so it cannot move the cursor or
// rewrite the choices on screen.
#pragma once
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "net/policy/approval.hpp"

namespace netpen::app::interactive {

// "netpen: tcp to web.lab.test (203.0.113.10:80) by pid 4242 (sandbox pid 2): curl ...";
// a flow that claims a name (TLS/QUIC SNI, HTTP Host) shows that name:
// "netpen: tcp to web.lab.test (TLS SNI) at 203.0.113.10:443 by pid 4242 ...".
std::string question_line(const policy::approval_request& request);
// "  allow [y] once  [a] always 203.0.113.10  [d] always web.lab.test  deny [n]  details [?]  (denied in 30 s) "
// ([d] only when a name is known: the claimed name, else the newest learned one).
std::string choices_line(const policy::approval_request& request, std::chrono::seconds left);
// Both lines, separated by a newline (none after the second: the cursor waits there).
std::string prompt_lines(const policy::approval_request& request, std::chrono::seconds left);
// The details ([?] / [i]): process, names, address, port and protocol, one per line.
std::string details_text(const policy::approval_request& request);
// "netpen: allowed once", "netpen: denied (timeout)", ...
std::string outcome_line(const policy::approval_request& request, policy::approval answer);

// Whether [d] is offered: a claimed name or a learned one.
bool has_name(const policy::approval_request& request);
// The answer a key gives: y once, a the address, d the name (only when
// name_known), n deny; nothing for any other key.
std::optional<policy::approval> answer_for(char key, bool name_known);
// '?' and 'i' show the details.
bool shows_details(char key);

// The terminal's cursor position report ("ESC [ row ; col R", the answer to
// "ESC [ 6n") found in `input`: {row, col} (from 1), and where the report
// ends in `input` (so bytes around it, keys typed meanwhile, are kept).
struct cursor_report {
  int row = 0, col = 0;
  std::size_t begin = 0, end = 0;  // the report is input[begin, end)
};
std::optional<cursor_report> find_cursor_report(std::string_view input);

// `text` with control characters (C0, DEL, C1) replaced by '?'.
std::string printable(std::string_view text);
// `line` cut to at most `columns` characters (UTF-8 aware), ending in "..."
// when cut; unchanged when columns is 0 (width unknown).
std::string fit_width(std::string line, std::size_t columns);

}  // namespace netpen::app::interactive
