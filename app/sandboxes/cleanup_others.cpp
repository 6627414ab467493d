// Root's `netpen cleanup` for other users' persistent sandboxes: each user
// with a /run/user/UID/netpen/sandboxes directory gets a forked child that
// becomes that user (setgroups, setgid, setuid: never root acting inside a
// directory its owner controls) and removes that user's dead sandboxes as
// the user's own cleanup would, its lines going to the same output. Users
// whose sandboxes live under ~/.local/state (no /run/user/UID) are not
// found here; their own `netpen cleanup` removes them.
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <fmt/format.h>

#include "app/sandboxes/commands.hpp"

namespace netpen::app::sandboxes {
namespace {

namespace fs = std::filesystem;

// In the child: become uid/gid, then clean as that user. Exit status: 0 ok,
// 1 something could not be removed, 2 nothing was found, 3 no switch.
[[noreturn]] void clean_as(uid_t uid, gid_t gid, bool dry_run, std::FILE* out) {
  if (::setgroups(0, nullptr) != 0 || ::setresgid(gid, gid, gid) != 0 || ::setresuid(uid, uid, uid) != 0) ::_exit(3);
  ::unsetenv("XDG_RUNTIME_DIR");  // root's; the user's is /run/user/UID
  const auto outcome = cleanup_dead(dry_run, out);
  std::fflush(out);
  ::_exit(!outcome.ok ? 1 : outcome.found == 0 ? 2 : 0);
}

}  // namespace

cleanup_outcome cleanup_others_dead(bool dry_run, std::FILE* out) {
  cleanup_outcome total;
  if (::geteuid() != 0) return total;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/run/user", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    struct stat st {};
    const fs::path sandboxes = entry.path() / "netpen" / "sandboxes";
    if (::lstat(entry.path().c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid == 0) continue;
    if (std::to_string(st.st_uid) != name) continue;  // /run/user/UID belongs to UID
    struct stat sb {};
    if (::lstat(sandboxes.c_str(), &sb) != 0 || !S_ISDIR(sb.st_mode)) continue;
    std::fflush(out);
    const pid_t pid = ::fork();
    if (pid < 0) {
      total.ok = false;
      continue;
    }
    if (pid == 0) clean_as(st.st_uid, st.st_gid, dry_run, out);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
    if (code == 0 || code == 1) ++total.found;
    if (code == 1 || code == 3 || !WIFEXITED(status)) {
      total.ok = false;
      fmt::print(out, "sandboxes of uid {}: could not be {}\n", st.st_uid, code == 3 ? "checked" : "all removed");
    }
  }
  return total;
}

}  // namespace netpen::app::sandboxes
