// What a persistent sandbox may be called: [a-z0-9][a-z0-9_-]{0,31}. The
// name becomes a directory name under the state root and a word in `netpen
// list`, so nothing else (no '.', '/', upper case or spaces) is allowed.
#pragma once
#include <string_view>

namespace netpen::app::sandboxes {

inline constexpr std::size_t max_name_length = 32;

constexpr bool is_sandbox_name(std::string_view name) {
  if (name.empty() || name.size() > max_name_length) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(name.front())) return false;
  for (char c : name)
    if (!alnum(c) && c != '_' && c != '-') return false;
  return true;
}

}  // namespace netpen::app::sandboxes
