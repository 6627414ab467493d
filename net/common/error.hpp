// netpen's error value: a stable reason code (for logs and exit messages)
// plus a human sentence. Used by setup code and parsers via netpen::result.
#pragma once
#include <string>
#include <utility>

#include "net/common/expected.hpp"

namespace netpen {

struct error {
  std::string code;     // stable, machine-readable, e.g. "tun-unavailable"
  std::string message;  // one sentence for `netpen: error: ...`
};

template <class T>
using result = expected<T, error>;

inline unexpected<error> fail(std::string code, std::string message) {
  return unexpected<error>(error{std::move(code), std::move(message)});
}

}  // namespace netpen
