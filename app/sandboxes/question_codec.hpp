// The words of `netpen create --interactive` on a sandbox's control socket
// (see control_messages.hpp): the daemon asks an exec's client about a
// destination, the client answers with the key's meaning. Pure.
//
//   daemon -> client: "ask ID\n" then one "field value" line each for the
//     seconds left to answer (timeout), the protocol, the address (v4/v6 and 16 hex bytes), the port, the
//     destination text, the process text, and one "name NAME" per name;
//   client -> daemon: "answer ID WORD" (once, address, name, deny, timeout;
//     unasked when it has no terminal to ask on after all).
// Text from the sandbox (names, command lines) may hold any byte: '\\',
// newline and NUL travel escaped as "\\\\", "\\n" and "\\0".
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "net/policy/approval.hpp"

namespace netpen::app::sandboxes {

inline constexpr std::string_view request_answer = "answer";
inline constexpr std::string_view reply_ask = "ask";

struct question {
  std::uint64_t id = 0;
  int timeout_s = 30;  // --prompt-timeout: the client denies (timeout) after it
  policy::approval_request request;
};

std::string encode_question(const question& q);
std::optional<question> decode_question(std::string_view wire);

struct answer {
  std::uint64_t id = 0;
  policy::approval what = policy::approval::deny;
};

std::string encode_answer(const answer& a);
// nullopt for anything malformed.
std::optional<answer> decode_answer(std::string_view wire);

}  // namespace netpen::app::sandboxes
