// Byte, duration and safe-text formatting for the event outputs (see
// text_util.hpp).
#include "net/events/text_util.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace netpen::events {

std::string human_bytes(std::uint64_t bytes) {
  if (bytes < 1024) return fmt::format("{} B", bytes);
  static constexpr std::array<const char*, 5> units{"KiB", "MiB", "GiB", "TiB", "PiB"};
  auto value = static_cast<double>(bytes) / 1024.0;
  std::size_t unit = 0;
  // Round first so 1048575 B reads "1.0 MiB", not "1024.0 KiB".
  while (unit + 1 < units.size() && value >= 1023.95) {
    value /= 1024.0;
    ++unit;
  }
  return fmt::format("{:.1f} {}", value, units[unit]);
}

std::string human_duration(std::chrono::milliseconds d) {
  const auto ms = d.count() < 0 ? 0 : d.count();
  if (ms < 1000) return fmt::format("{} ms", ms);
  if (ms < 60'000) return fmt::format("{}.{:03} s", ms / 1000, ms % 1000);
  const auto s = ms / 1000;
  if (s < 3600) return fmt::format("{}m {:02}s", s / 60, s % 60);
  return fmt::format("{}h {:02}m", s / 3600, (s % 3600) / 60);
}

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    const auto next = i + 1 < text.size() ? static_cast<unsigned char>(text[i + 1]) : 0;
    if (byte < 0x20 || byte == 0x7f) {
      out += fmt::format("\\x{:02x}", byte);
    } else if (byte == 0xC2 && next >= 0x80 && next <= 0x9F) {  // C1 controls (U+0080-U+009F) in UTF-8
      out += fmt::format("\\u{:04x}", next);
      ++i;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string shorten(std::string_view text, std::size_t max) {
  if (text.size() <= max) return std::string(text);
  if (max <= 3) return std::string(text.substr(0, max));
  // Do not cut a UTF-8 sequence in half.
  std::size_t cut = max - 3;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return std::string(text.substr(0, cut)) + "...";
}

std::string claim_text(const event& e, std::size_t path_max) {
  std::string text;
  auto add = [&](const std::string& part) { text += (text.empty() ? "" : " ") + part; };
  if (!e.sni.empty()) add("sni=" + e.sni);
  if (!e.alpn.empty()) {
    std::string list;
    for (const auto& a : e.alpn) list += (list.empty() ? "" : ",") + a;
    add("alpn=" + list);
  }
  const std::string target = e.http_host + shorten(e.http_path, path_max);
  if (!e.http_method.empty() && !target.empty()) add(e.http_method + " " + target);
  else if (!e.http_method.empty() || !target.empty()) add(e.http_method + target);
  return text;
}

namespace {

bool shell_safe(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x80) return true;  // UTF-8 text needs no quoting
  return std::isalnum(u) != 0 || std::string_view("@%+=:,./_-").find(c) != std::string_view::npos;
}

}  // namespace

std::string shell_quoted(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& word : argv) {
    if (!out.empty()) out += ' ';
    if (!word.empty() && std::ranges::all_of(word, shell_safe)) {
      out += word;
      continue;
    }
    out += '\'';
    for (const char c : word) {
      if (c == '\'') out += "'\\''";
      else out += c;
    }
    out += '\'';
  }
  return out;
}

}  // namespace netpen::events
