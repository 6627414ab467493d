// Internal to the summary's text and Markdown forms: a table of aligned
// columns, two spaces apart, no trailing spaces (widths count UTF-8
// characters), the columns a list of event groups shows, the
// destinations' direction column and how a claimed name was seen.
#pragma once
#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/events/summary.hpp"

namespace netpen::events::detail {

enum class align { left, right };

class table {
 public:
  explicit table(std::vector<align> columns) : align_(std::move(columns)) {}

  void row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }

  std::string render(const std::string& indent) const {
    std::vector<std::size_t> width;
    for (const auto& r : rows_)
      for (std::size_t i = 0; i < r.size(); ++i) {
        if (width.size() <= i) width.resize(i + 1, 0);
        width[i] = std::max(width[i], length(r[i]));
      }
    std::string out;
    for (const auto& r : rows_) {
      std::string line = indent;
      for (std::size_t i = 0; i < r.size(); ++i) {
        const std::string pad(width[i] - length(r[i]), ' ');
        const bool right = i < align_.size() && align_[i] == align::right;
        if (i > 0) line += "  ";
        line += right ? pad + r[i] : r[i] + pad;
      }
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out += line + '\n';
    }
    return out;
  }

 private:
  static std::size_t length(const std::string& text) {
    std::size_t n = 0;
    for (char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
    return n;
  }

  std::vector<align> align_;
  std::vector<std::vector<std::string>> rows_;
};

// The destinations table's direction column: shown when any row is inbound.
inline bool any_inbound(const std::vector<destination_total>& rows) {
  return std::any_of(rows.begin(), rows.end(), [](const destination_total& d) { return d.inbound; });
}
inline std::string_view direction_of(const destination_total& d) { return d.inbound ? "inbound" : "outbound"; }

// How a claimed name was seen, for people: "sni", "sni, host".
inline std::string seen_text(const name_total& n) {
  std::string out;
  for (const auto& how : n.seen) out += (out.empty() ? "" : ", ") + how;
  return out;
}

// What a group list shows besides the reason: via (proxy failures) or the
// policy code and rule (denials).
enum class group_extra { none, via, policy };

struct group_column {
  std::string_view header;
  std::string event_group::*field;
};

// The columns after "count": protocol, destination, the claimed name,
// policy and rule each when any group has one (claimed name, policy and
// rule for denials only), the reason,
// and via for proxy failures.
inline std::vector<group_column> group_columns(const std::vector<event_group>& groups, group_extra extra) {
  auto any = [&](std::string event_group::*field) {
    return std::any_of(groups.begin(), groups.end(), [&](const event_group& g) { return !(g.*field).empty(); });
  };
  std::vector<group_column> out;
  if (any(&event_group::protocol)) out.push_back({"protocol", &event_group::protocol});
  if (any(&event_group::destination)) out.push_back({"destination", &event_group::destination});
  if (extra == group_extra::policy && any(&event_group::claimed)) out.push_back({"claimed", &event_group::claimed});
  if (extra == group_extra::policy && any(&event_group::policy)) out.push_back({"policy", &event_group::policy});
  if (extra == group_extra::policy && any(&event_group::rule)) out.push_back({"rule", &event_group::rule});
  out.push_back({"reason", &event_group::reason});
  if (extra == group_extra::via) out.push_back({"via", &event_group::via});
  return out;
}

}  // namespace netpen::events::detail
