// make_host_undo: the real undo of each host change, in the calling
// process's network namespace: sysctls through /proc/sys, links, rules and
// routes through rtnetlink (rtnetlink_undo), tables through libnftables.
#include <type_traits>

#include "backends/common/sysctl.hpp"
#include "backends/rootful/host_undo.hpp"
#include "backends/rootful/nftables.hpp"
#include "backends/rootful/rtnetlink_undo.hpp"

namespace netpen::backends::rootful {
namespace {

// Writes the saved value back; a sysctl that no longer exists (the
// interface it belonged to is gone) is success.
result<void> restore_sysctl(const sysctl& s) {
  return write_sysctl(s.path, s.original_value, sysctl_missing::ignore);
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
