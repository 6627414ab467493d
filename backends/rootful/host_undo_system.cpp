// make_host_undo: the real undo of each host change, in the calling
// process's network namespace: sysctls through /proc/sys, links, rules and
// routes through rtnetlink (rtnetlink_undo), tables through libnftables.
#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <type_traits>

#include "backends/common/unique_fd.hpp"
#include "backends/rootful/host_undo.hpp"
#include "backends/rootful/nftables.hpp"
#include "backends/rootful/rtnetlink_undo.hpp"

namespace netpen::backends::rootful {
namespace {

// Writes the saved value back; a sysctl that no longer exists (the
// interface it belonged to is gone) is success.
result<void> restore_sysctl(const sysctl& s) {
  const std::string path = "/proc/sys/" + s.path;
  unique_fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return {};
    return fail("sysctl", fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  }
  const std::string value = s.original_value + "\n";
  ssize_t n = 0;
  do {
    n = ::write(fd.get(), value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return fail("sysctl", fmt::format("cannot write '{}' to {}: {}", s.original_value, path, std::strerror(errno)));
  if (static_cast<std::size_t>(n) != value.size())
    return fail("sysctl", fmt::format("short write of '{}' to {}", s.original_value, path));
  return {};
}

result<void> delete_nft_table(const nft_table& t) {
  auto nft = nft_session::open();
  if (!nft) return unexpected(nft.error());
  return nft->delete_table_if_exists(t.family, t.name);
}

class system_host_undo final : public host_undo {
 public:
  result<void> undo(const host_change& change) override {
    // A record from disk was validated when read; one built in memory is
    // checked here, so no undo ever acts on the kernel's own tables.
    if (auto ok = validate(change); !ok) return ok;
    return std::visit(
        [](const auto& c) -> result<void> {
          using T = std::decay_t<decltype(c)>;
          if constexpr (std::is_same_v<T, veth>) return delete_link(c.name);
          else if constexpr (std::is_same_v<T, nft_table>) return delete_nft_table(c);
          else if constexpr (std::is_same_v<T, sysctl>) return restore_sysctl(c);
          else if constexpr (std::is_same_v<T, ip_rule>) return delete_rule(c);
          else return flush_route_table(c);
        },
        change);
  }
};

}  // namespace

std::unique_ptr<host_undo> make_host_undo() { return std::make_unique<system_host_undo>(); }

}  // namespace netpen::backends::rootful
