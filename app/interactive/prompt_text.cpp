// The --interactive prompt's text and keys (see prompt_text.hpp).
#include "app/interactive/prompt_text.hpp"

#include <fmt/format.h>

#include "net/packet/packet_text.hpp"

namespace netpen::app::interactive {
namespace {

using policy::approval;
using policy::approval_request;

std::string protocol_text(const approval_request& r) { return std::string(packet::protocol_name(r.protocol)); }

std::string address_text(const approval_request& r) { return packet::to_string(r.address); }

// The name "[d] always" stands for: the claimed name, else the newest learned one.
std::string first_name(const approval_request& r) {
  if (!r.claimed_name.empty()) return printable(r.claimed_name);
  return r.names.empty() ? std::string() : printable(r.names[0]);
}

bool is_continuation(unsigned char c) { return (c & 0xc0) == 0x80; }

// The length of the well-formed UTF-8 sequence at text[i], or 0.
std::size_t utf8_length(std::string_view text, std::size_t i) {
  const auto lead = static_cast<unsigned char>(text[i]);
  const std::size_t n = lead < 0x80 ? 1 : lead >= 0xc2 && lead < 0xe0 ? 2 : lead >= 0xe0 && lead < 0xf0 ? 3
                        : lead >= 0xf0 && lead < 0xf5                ? 4
                                                                     : 0;
  if (n == 0 || i + n > text.size()) return 0;
  for (std::size_t k = 1; k < n; ++k)
    if (!is_continuation(static_cast<unsigned char>(text[i + k]))) return 0;
  return n;
}

std::size_t char_count(std::string_view s) {
  std::size_t n = 0;
  for (char c : s)
    if (!is_continuation(static_cast<unsigned char>(c))) ++n;
  return n;
}

// The byte offset where character number `n` (from 0) starts, or s.size().
std::size_t offset_of_char(std::string_view s, std::size_t n) {
  std::size_t chars = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (is_continuation(static_cast<unsigned char>(s[i]))) continue;
    if (chars++ == n) return i;
  }
  return s.size();
}

// C0 controls, DEL, and C1 controls (U+0080..U+009F, encoded C2 80..C2 9F).
bool is_control(std::string_view seq) {
  const auto b0 = static_cast<unsigned char>(seq[0]);
  if (seq.size() == 1) return b0 < 0x20 || b0 == 0x7f;
  return b0 == 0xc2 && static_cast<unsigned char>(seq[1]) < 0xa0;
}

}  // namespace

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = utf8_length(text, i);
    const auto seq = text.substr(i, n == 0 ? 1 : n);
    if (n == 0 || is_control(seq))
      out += '?';
    else
      out += seq;
    i += seq.size();
  }
  return out;
}

std::string fit_width(std::string line, std::size_t columns) {
  constexpr std::string_view ellipsis = "...";
  if (columns == 0 || char_count(line) <= columns) return line;
  if (columns <= ellipsis.size()) return std::string(ellipsis.substr(0, columns));
  line.resize(offset_of_char(line, columns - ellipsis.size()));
  return line + std::string(ellipsis);
}

bool has_name(const approval_request& r) { return !r.claimed_name.empty() || !r.names.empty(); }

std::string question_line(const approval_request& r) {
  std::string where = r.names.empty() ? r.destination : fmt::format("{} ({})", first_name(r), r.destination);
  if (!r.claimed_name.empty())
    where = fmt::format("{} ({}) at {}", first_name(r), r.claimed_by.empty() ? "claimed" : printable(r.claimed_by),
                        r.destination);
  const std::string who = r.process.empty() ? std::string() : " by " + printable(r.process);
  return fmt::format("netpen: {} to {}{}", protocol_text(r), where, who);
}

std::string choices_line(const approval_request& r, std::chrono::seconds left) {
  const std::string by_name = has_name(r) ? fmt::format("[d] always {}  ", first_name(r)) : std::string();
  return fmt::format("  allow [y] once  [a] always {}  {}deny [n]  details [?]  (denied in {} s) ", address_text(r),
                     by_name, left.count());
}

std::string prompt_lines(const approval_request& r, std::chrono::seconds left) {
  return question_line(r) + "\n" + choices_line(r, left);
}

std::string details_text(const approval_request& r) {
  std::string names;
  for (const auto& n : r.names) names += (names.empty() ? "" : ", ") + printable(n);
  const std::string claimed =
      r.claimed_name.empty() ? std::string()
                             : fmt::format("  claimed:  {} ({})\n", printable(r.claimed_name), printable(r.claimed_by));
  return fmt::format(
      "  process:  {}\n{}  names:    {}\n  address:  {}\n  port:     {}\n  protocol: {}\n",
      r.process.empty() ? "unknown" : printable(r.process), claimed, names.empty() ? "none seen in this run" : names,
      address_text(r), r.port == 0 ? std::string("none") : std::to_string(r.port), protocol_text(r));
}

std::string outcome_line(const approval_request& r, approval answer) {
  switch (answer) {
    case approval::allow_once: return "netpen: allowed once";
    case approval::allow_address: return fmt::format("netpen: allowed {} for this run", address_text(r));
    case approval::allow_name: return fmt::format("netpen: allowed {} for this run", first_name(r));
    case approval::deny: return fmt::format("netpen: denied {} for this run", address_text(r));
    case approval::timeout: return "netpen: denied (timeout)";
    case approval::unasked: return "netpen: denied (no terminal to ask on)";
  }
  return "netpen: denied";
}

std::optional<approval> answer_for(char key, bool name_known) {
  switch (key) {
    case 'y': return approval::allow_once;
    case 'a': return approval::allow_address;
    case 'd': return name_known ? std::optional(approval::allow_name) : std::nullopt;
    case 'n': return approval::deny;
    default: return std::nullopt;
  }
}

bool shows_details(char key) { return key == '?' || key == 'i'; }

std::optional<cursor_report> find_cursor_report(std::string_view input) {
  for (std::size_t start = input.find('\x1b'); start != std::string_view::npos;
       start = input.find('\x1b', start + 1)) {
    std::size_t i = start + 1;
    if (i >= input.size() || input[i] != '[') continue;
    int numbers[2] = {0, 0};
    bool ok = true;
    for (int k = 0; k < 2 && ok; ++k) {
      const std::size_t digits = ++i;
      while (i < input.size() && input[i] >= '0' && input[i] <= '9' && i - digits < 6)
        numbers[k] = numbers[k] * 10 + (input[i++] - '0');
      ok = i > digits && i < input.size() && input[i] == (k == 0 ? ';' : 'R');
    }
    if (ok) return cursor_report{numbers[0], numbers[1], start, i + 1};
  }
  return std::nullopt;
}

}  // namespace netpen::app::interactive
