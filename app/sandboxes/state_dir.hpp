// Where persistent sandboxes live on the host, one directory each:
//   <root>/<NAME>/control      the daemon's Unix socket (SOCK_SEQPACKET)
//   <root>/<NAME>/record.json  the record (sandbox_record.hpp)
//   <root>/<NAME>/daemon.log   the daemon's own stderr (warnings, live lines)
// Roots: root's sandboxes are under /run/netpen-sandboxes (0711: others may
// pass through to a sandbox shared with their --exec-group, never list it;
// /run/netpen itself is 0700 and holds --root runs' records). An ordinary
// user's are under $XDG_RUNTIME_DIR/netpen/sandboxes, else
// /run/user/UID/netpen/sandboxes, else ~/.local/state/netpen/sandboxes;
// every directory netpen makes there is 0700 and checked to be the user's
// own and not a symlink. A sandbox directory is 0700, or 0750 with the
// exec group as its group; creating it (mkdir) is what claims the name, so
// two creates of one name cannot both succeed.
#pragma once
#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "app/sandboxes/sandbox_record.hpp"
#include "net/common/error.hpp"

namespace netpen::app::sandboxes {

namespace fs = std::filesystem;

inline constexpr std::string_view system_root = "/run/netpen-sandboxes";

struct sandbox_dir {
  fs::path path;
  std::string name;
  fs::path socket() const { return path / "control"; }
  fs::path record() const { return path / "record.json"; }
  fs::path log() const { return path / "daemon.log"; }
};

// The caller's own root; made (0700, or 0711 for root's) when `create`.
result<fs::path> own_root(bool create);

// The roots a name is looked up in: the caller's own, then, for anyone but
// root, root's (sandboxes shared with an --exec-group).
std::vector<fs::path> search_roots();

// Claims NAME under root: the directory, 0700 or 0750 group `group`.
// Code "exists" when the name is taken.
result<sandbox_dir> claim(const fs::path& root, const std::string& name, std::optional<gid_t> group);

// The first root holding NAME (a real directory, not a symlink).
std::optional<sandbox_dir> find(const std::string& name);

// Every sandbox directory under root (names that are not sandbox names are skipped).
std::vector<sandbox_dir> list_in(const fs::path& root);

// Writes the record atomically (0600, or 0640 group `group`).
result<void> write_record(const sandbox_dir& dir, const sandbox_record& r, std::optional<gid_t> group);
result<sandbox_record> read_record(const sandbox_dir& dir);

// Removes the directory and what the daemon put in it.
void remove_dir(const sandbox_dir& dir);

}  // namespace netpen::app::sandboxes
