// Sysctl reads and writes through /proc/sys (see sysctl.hpp).
#include "backends/common/sysctl.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>

#include <fmt/format.h>

#include "backends/common/unique_fd.hpp"

namespace netpen::backends {

std::string sysctl_file(std::string_view path) { return fmt::format("/proc/sys/{}", path); }

std::string sysctl_name(std::string_view path) {
  std::string out(path);
  for (char& c : out) c = c == '/' ? '.' : (c == '.' ? '/' : c);
  return out;
}

bool sysctl_exists(std::string_view path) {
  return static_cast<bool>(unique_fd(::open(sysctl_file(path).c_str(), O_RDONLY | O_CLOEXEC)));
}

result<std::string> read_sysctl(std::string_view path) {
  const std::string file = sysctl_file(path);
  unique_fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail("sysctl", fmt::format("cannot read {}: {}", file, std::strerror(errno)));
  std::string text;
  char buf[512];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("sysctl", fmt::format("cannot read {}: {}", file, std::strerror(errno)));
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.find('\n') != std::string::npos) break;
  }
  if (text.empty()) return fail("sysctl", fmt::format("cannot read {}: it is empty", file));
  text.resize(std::min(text.find('\n'), text.size()));
  return text;
}

result<long> read_sysctl_int(std::string_view path) {
  auto text = read_sysctl(path);
  if (!text) return unexpected(text.error());
  const char* begin = text->data();
  const char* end = begin + text->size();
  while (begin != end && std::isspace(static_cast<unsigned char>(*begin))) ++begin;
  if (begin != end && *begin == '+') ++begin;
  long v = 0;
  if (std::from_chars(begin, end, v).ec != std::errc{})
    return fail("sysctl", fmt::format("{} is not a number: '{}'", sysctl_file(path), *text));
  return v;
}

result<void> write_sysctl(std::string_view path, std::string_view value, sysctl_missing missing) {
  const std::string file = sysctl_file(path);
  unique_fd fd(::open(file.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT && missing == sysctl_missing::ignore) return {};
    return fail("sysctl", fmt::format("cannot set {} to {}: {}", file, value, std::strerror(errno)));
  }
  const std::string line = fmt::format("{}\n", value);
  ssize_t n = 0;
  do {
    n = ::write(fd.get(), line.data(), line.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return fail("sysctl", fmt::format("cannot set {} to {}: {}", file, value, std::strerror(errno)));
  if (static_cast<std::size_t>(n) != line.size())
    return fail("sysctl", fmt::format("cannot set {} to {}: short write", file, value));
  return {};
}

}  // namespace netpen::backends
