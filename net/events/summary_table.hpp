// Internal to the summary's text form: a table of aligned columns, two
// spaces apart, no trailing spaces. Widths count UTF-8 characters.
#pragma once
#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

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

}  // namespace netpen::events::detail
