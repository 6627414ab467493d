// The words spoken on a persistent sandbox's control socket (SOCK_SEQPACKET,
// one message per datagram, fds by SCM_RIGHTS; see daemon.hpp):
//   client -> daemon: an exec request (backends/common/spawn_request.hpp)
//     with the command's fds; "signal N" (forward N to the command's group);
//     "info"; "destroy" (with the caller's stderr, for the summary).
//   daemon -> client: "started PID", "stopped SIGNAL" (the command stopped),
//     "exit STATUS", "error MESSAGE", "info PROCESSES", "destroyed".
// Pure helpers to split a reply into its word and its argument.
#pragma once
#include <charconv>
#include <optional>
#include <string>
#include <string_view>

namespace netpen::app::sandboxes {

inline constexpr std::string_view reply_started = "started";
inline constexpr std::string_view reply_stopped = "stopped";
inline constexpr std::string_view reply_exit = "exit";
inline constexpr std::string_view reply_error = "error";
inline constexpr std::string_view reply_info = "info";
inline constexpr std::string_view reply_destroyed = "destroyed";
inline constexpr std::string_view request_signal = "signal";
inline constexpr std::string_view request_info = "info";
inline constexpr std::string_view request_destroy = "destroy";

struct control_word {
  std::string_view word;
  std::string_view argument;  // after the first space (empty when none)
};

constexpr control_word split_word(std::string_view message) {
  const auto sp = message.find(' ');
  if (sp == std::string_view::npos) return {message, {}};
  return {message.substr(0, sp), message.substr(sp + 1)};
}

inline std::optional<int> number_of(std::string_view text) {
  int v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc{} || p != text.data() + text.size()) return std::nullopt;
  return v;
}

inline std::string with_argument(std::string_view word, std::string_view argument) {
  return std::string(word) + " " + std::string(argument);
}

}  // namespace netpen::app::sandboxes
