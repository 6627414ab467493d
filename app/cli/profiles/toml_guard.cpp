// unsafe_non_ascii_line: a small TOML lexer that knows only comments, the
// four kinds of strings and bare tokens (see toml_guard.hpp). A bare token
// (a number, a boolean, a date, or garbage) runs to the next ASCII blank,
// ']', '}', ',' or '#', as toml++ scans it: a quote inside one opens no
// string, so non-ASCII after it is still refused. A bare key also ends at
// '.' and '=' (toml++ reads keys by their own characters).
#include "app/cli/profiles/toml_guard.hpp"

#include <cstddef>

namespace netpen::app::cli::profiles {
namespace {

enum class where { plain, bare, comment, basic, literal, ml_basic, ml_literal };

bool non_ascii(char c) { return static_cast<unsigned char>(c) >= 0x80; }
bool blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

class lexer {
 public:
  explicit lexer(std::string_view t) : t_(t) {}

  std::optional<int> run() {
    while (i_ < t_.size()) {
      const char c = t_[i_];
      if (non_ascii(c) && (state_ == where::plain || state_ == where::bare || trimming_)) return line_;
      if (c == '\n') ++line_;
      step(c);
    }
    return std::nullopt;
  }

 private:
  bool at(std::string_view s) const { return t_.substr(i_, s.size()) == s; }

  void step(char c) {
    switch (state_) {
      case where::plain:
        return plain(c);
      case where::bare:
        if (!ends_bare(c)) break;
        state_ = where::plain;
        return plain(c);  // the terminator is read again, as structure
      case where::comment:
        if (c != '\n') break;
        state_ = where::plain;
        return plain(c);  // the newline starts a line
      case where::basic:
        if (c == '\\') return skip(2);
        if (c == '"' || c == '\n') state_ = where::plain;
        break;
      case where::literal:
        if (c == '\'' || c == '\n') state_ = where::plain;
        break;
      case where::ml_basic:
        if (trimming_ && !blank(c)) trimming_ = false;
        if (c == '\\') return backslash();
        if (at("\"\"\"")) return close('"');
        break;
      case where::ml_literal:
        if (at("'''")) return close('\'');
        break;
    }
    ++i_;
  }

  // Between tokens. A bare token is a key when it starts a line outside
  // any array or inline table, follows a table header's '[', or follows a
  // key's '.'; any other is a value (the conservative reading: a value
  // runs further, so more of the text is refused).
  void plain(char c) {
    const bool line_start = line_start_;
    if (!blank(c)) line_start_ = false;
    if (c == '\n' && depth_ == 0) line_start_ = true;
    if (c == '#') state_ = where::comment;
    else if (at("\"\"\"")) return enter(where::ml_basic, 3);
    else if (at("'''")) return enter(where::ml_literal, 3);
    else if (c == '"') state_ = where::basic;
    else if (c == '\'') state_ = where::literal;
    else if (c == '[' && (line_start || (header_ && t_[i_ - 1] == '['))) header_ = key_next_ = true;
    else if (c == '[' || c == '{') ++depth_, key_next_ = false;
    else if (c == ']' || c == '}') depth_ -= depth_ > 0 ? 1 : 0, header_ = key_next_ = false;
    else if (c == '.') key_next_ = last_key_;
    else if (c == '=' || c == ',') key_next_ = false;
    else if (!blank(c)) {
      state_ = where::bare;
      bare_key_ = (line_start && depth_ == 0) || key_next_;
    }
    if (state_ != where::bare && !blank(c) && c != '.') last_key_ = false;
    if (state_ == where::bare) last_key_ = bare_key_;
    ++i_;
  }

  // Where toml++ stops reading a bare token: a key at what cannot be in
  // one, a value only at a value terminator.
  bool ends_bare(char c) const {
    if (blank(c) || c == ']' || c == '#') return true;
    if (bare_key_) return c == '.' || c == '=';
    return c == '}' || c == ',';
  }

  void enter(where w, std::size_t n) {
    state_ = w;
    i_ += n;
  }
  // A multi-line string ends at its third quote; up to two more belong to it.
  void close(char quote) {
    enter(where::plain, 3);
    for (int k = 0; k < 2 && i_ < t_.size() && t_[i_] == quote; ++k) ++i_;
  }
  void skip(std::size_t n) {
    if (i_ + 1 < t_.size() && t_[i_ + 1] == '\n') ++line_;
    i_ += n;
  }
  // In a multi-line basic string: an escape, or a line-ending backslash
  // (only blanks up to the newline), after which toml++ trims whitespace.
  void backslash() {
    std::size_t j = i_ + 1;
    while (j < t_.size() && (t_[j] == ' ' || t_[j] == '\t' || t_[j] == '\r')) ++j;
    if (j < t_.size() && t_[j] == '\n') {
      trimming_ = true;
      ++i_;
      return;
    }
    skip(2);
  }

  std::string_view t_;
  std::size_t i_ = 0;
  int line_ = 1;
  where state_ = where::plain;
  bool trimming_ = false;  // skipping whitespace after a line-ending backslash
  bool line_start_ = true;  // only blanks so far on this line (outside arrays)
  int depth_ = 0;           // arrays and inline tables open
  bool header_ = false;     // inside a [table] or [[array]] header
  bool key_next_ = false;   // the next bare token is a key
  bool last_key_ = false;   // the token just read was a key (a '.' continues it)
  bool bare_key_ = false;   // the bare token being read is a key
};

}  // namespace

std::optional<int> unsafe_non_ascii_line(std::string_view text) { return lexer(text).run(); }

}  // namespace netpen::app::cli::profiles
