// The kernel check: netpen starts its sandbox with clone3(CLONE_PIDFD) and
// pidfds (Linux 5.3); cleanup tells network namespaces apart by
// SO_NETNS_COOKIE (Linux 5.14; older kernels fall back to the inode).
#include <charconv>

#include <fmt/format.h>

#include "app/doctor/checks.hpp"

namespace netpen::app::doctor {

std::optional<std::tuple<int, int, int>> parse_kernel_release(std::string_view release) {
  int parts[3] = {0, 0, 0};
  const char* p = release.data();
  const char* end = release.data() + release.size();
  for (int i = 0; i < 3; ++i) {
    const auto [next, ec] = std::from_chars(p, end, parts[i]);
    if (ec != std::errc{}) {
      if (i < 2) return std::nullopt;  // major.minor at least
      break;
    }
    p = next;
    if (i < 2) {
      if (p == end || *p != '.') {
        if (i == 0) return std::nullopt;
        break;
      }
      ++p;
    }
  }
  return std::tuple{parts[0], parts[1], parts[2]};
}

check_result judge_kernel(const kernel_facts& f, bool rootful) {
  check_result r{"kernel", true, need::required, "", ""};
  const auto v = parse_kernel_release(f.release);
  if (!v) {
    r.level = need::info;
    r.detail = fmt::format("Linux {} (version not understood; netpen needs 5.3 or later)", f.release);
    return r;
  }
  const auto [major, minor, patch] = *v;
  (void)patch;
  if (std::pair{major, minor} < std::pair{5, 3}) {
    r.ok = false;
    r.detail = fmt::format("Linux {}: netpen needs 5.3 or later (clone3, pidfds)", f.release);
    r.fix = "upgrade the kernel (Debian 11 and later, Ubuntu 20.04 HWE and later ship one)";
    return r;
  }
  if (rootful && std::pair{major, minor} < std::pair{5, 14}) {
    r.level = need::recommended;
    r.ok = false;
    r.detail = fmt::format("Linux {}: before 5.14, cleanup tells network namespaces apart by inode only", f.release);
    r.fix = "upgrade to Linux 5.14 or later";
    return r;
  }
  r.detail = fmt::format("Linux {}", f.release);
  return r;
}

}  // namespace netpen::app::doctor
