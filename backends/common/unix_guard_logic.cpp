// The Unix-socket guard's pure logic (see unix_guard_logic.hpp).
#include "backends/common/unix_guard_logic.hpp"

#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/un.h>

#include <cstring>

namespace netpen::backends::unix_guard {
namespace {

template <typename T>
T read_at(std::span<const std::byte> bytes, std::size_t offset) {
  T v{};
  std::memcpy(&v, bytes.data() + offset, sizeof v);
  return v;
}

}  // namespace

parsed_address parse_sockaddr(std::span<const std::byte> bytes) {
  parsed_address out;
  if (bytes.size() < sizeof(sa_family_t)) return out;
  if (read_at<sa_family_t>(bytes, 0) != AF_UNIX) return out;
  const auto path = bytes.subspan(sizeof(sa_family_t));
  if (path.empty()) {
    out.kind = address_kind::unnamed;
    return out;
  }
  if (path[0] == std::byte{0}) {
    out.kind = address_kind::abstract;
    return out;
  }
  const auto* chars = reinterpret_cast<const char*>(path.data());
  std::size_t n = 0;
  while (n < path.size() && chars[n] != '\0') ++n;
  out.kind = address_kind::pathname;
  out.path.assign(chars, n);
  return out;
}

std::optional<msghdr_fields> parse_msghdr(std::span<const std::byte> bytes) {
  if (bytes.size() < msghdr_size) return std::nullopt;
  msghdr_fields m;
  m.name = read_at<std::uint64_t>(bytes, 0);
  m.namelen = read_at<std::uint32_t>(bytes, 8);
  m.iov = read_at<std::uint64_t>(bytes, 16);
  m.iovlen = read_at<std::uint64_t>(bytes, 24);
  m.control = read_at<std::uint64_t>(bytes, 32);
  m.controllen = read_at<std::uint64_t>(bytes, 40);
  return m;
}

std::optional<std::vector<std::pair<std::uint64_t, std::uint64_t>>> parse_iovecs(std::span<const std::byte> bytes,
                                                                                  std::size_t count) {
  if (bytes.size() < count * 16) return std::nullopt;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i)
    out.emplace_back(read_at<std::uint64_t>(bytes, i * 16), read_at<std::uint64_t>(bytes, i * 16 + 8));
  return out;
}

bool is_below(std::string_view path, std::string_view dir) {
  if (dir == "/") return path.starts_with('/');
  if (!path.starts_with(dir)) return false;
  return path.size() == dir.size() || path[dir.size()] == '/';
}

verdict judge(const resolved_socket& s, const std::vector<allow_entry>& allow, const bound_set& bound) {
  if (!s.is_socket) return verdict::not_a_socket;
  if (bound.contains({s.dev, s.ino})) return verdict::allowed_inside;
  for (const auto& a : allow) {
    if (!a.directory && a.dev == s.dev && a.ino == s.ino) return verdict::allowed_by_rule;
    if (a.directory && !s.real_path.empty() && is_below(s.real_path, a.path)) return verdict::allowed_by_rule;
  }
  return verdict::refused;
}

std::optional<std::string> absolute_normalized(std::string_view path, std::string_view cwd) {
  if (path.empty()) return std::nullopt;
  std::string joined = path.starts_with('/') ? std::string(path) : std::string(cwd) + "/" + std::string(path);
  std::vector<std::string_view> parts;
  std::string_view rest = joined;
  while (!rest.empty()) {
    const auto slash = rest.find('/');
    const auto part = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  std::string out;
  for (auto p : parts) {
    out += '/';
    out += p;
  }
  return out.empty() ? std::string("/") : out;
}

dev_t kernel_dev_to_user(std::uint32_t kdev) { return ::makedev(kdev >> 20, kdev & 0xfffffU); }

}  // namespace netpen::backends::unix_guard
