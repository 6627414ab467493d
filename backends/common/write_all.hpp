// write_all: every byte of a buffer to a blocking fd (a terminal, a pty, a
// pipe), through short writes and EINTR. False when the fd fails or closes.
#pragma once
#include <unistd.h>

#include <cerrno>
#include <string_view>

namespace netpen::backends {

inline bool write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace netpen::backends
