// Persistent sandboxes' state directories (see state_dir.hpp).
#include "app/sandboxes/state_dir.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "app/sandboxes/sandbox_name.hpp"

namespace netpen::app::sandboxes {
namespace {

// A directory of ours: made 0700 if missing; must be a real directory
// owned by the caller (not a symlink someone planted).
result<void> own_dir(const fs::path& p, mode_t mode) {
  if (::mkdir(p.c_str(), mode) == 0) {
    if (::chmod(p.c_str(), mode) != 0)
      return fail("state-dir", fmt::format("cannot set the mode of {}: {}", p.string(), std::strerror(errno)));
    return {};
  }
  if (errno != EEXIST) return fail("state-dir", fmt::format("cannot create {}: {}", p.string(), std::strerror(errno)));
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::geteuid() ||
      (st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
    return fail("state-dir", fmt::format("{} is not a directory of ours (or others may write it)", p.string()));
  return {};
}

bool usable_base(const char* dir) {
  struct stat st {};
  return dir != nullptr && dir[0] == '/' && ::stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == ::geteuid();
}

fs::path user_base() {
  if (const char* x = std::getenv("XDG_RUNTIME_DIR"); usable_base(x)) return fs::path(x) / "netpen";
  const std::string run_user = fmt::format("/run/user/{}", ::geteuid());
  if (usable_base(run_user.c_str())) return fs::path(run_user) / "netpen";
  const char* home = std::getenv("HOME");
  if (!usable_base(home)) {
    const passwd* pw = ::getpwuid(::geteuid());
    home = pw != nullptr ? pw->pw_dir : nullptr;
  }
  return fs::path(home != nullptr ? home : "/nonexistent") / ".local" / "state" / "netpen";
}

}  // namespace

result<fs::path> own_root(bool create) {
  if (::geteuid() == 0) {
    const fs::path root(system_root);
    if (create) {
      if (auto r = own_dir(root, 0711); !r) return unexpected<error>(r.error());
    }
    return root;
  }
  const fs::path base = user_base();
  const fs::path root = base / "sandboxes";
  if (!create) return root;
  if (base.parent_path().filename() == "state") {  // ~/.local/state: make the parents the XDG way (0700)
    std::error_code ec;
    fs::create_directories(base.parent_path(), ec);
  }
  for (const auto& p : {base, root})
    if (auto r = own_dir(p, 0700); !r) return unexpected<error>(r.error());
  return root;
}

std::vector<fs::path> search_roots() {
  std::vector<fs::path> out;
  if (auto own = own_root(false)) out.push_back(*own);
  if (::geteuid() != 0) out.emplace_back(system_root);
  return out;
}

result<sandbox_dir> claim(const fs::path& root, const std::string& name, std::optional<gid_t> group) {
  if (!is_sandbox_name(name)) return fail("usage", fmt::format("'{}' is not a sandbox name", name));
  sandbox_dir d{root / name, name};
  const mode_t mode = group ? 0750 : 0700;
  if (::mkdir(d.path.c_str(), mode) != 0) {
    if (errno == EEXIST) return fail("exists", fmt::format("a sandbox named '{}' already exists", name));
    return fail("state-dir", fmt::format("cannot create {}: {}", d.path.string(), std::strerror(errno)));
  }
  if ((group && ::chown(d.path.c_str(), static_cast<uid_t>(-1), *group) != 0) || ::chmod(d.path.c_str(), mode) != 0) {
    const int e = errno;
    ::rmdir(d.path.c_str());
    return fail("state-dir", fmt::format("cannot set up {}: {}", d.path.string(), std::strerror(e)));
  }
  return d;
}

std::optional<sandbox_dir> find(const std::string& name) {
  if (!is_sandbox_name(name)) return std::nullopt;
  for (const auto& root : search_roots()) {
    struct stat st {};
    const fs::path p = root / name;
    if (::lstat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return sandbox_dir{p, name};
  }
  return std::nullopt;
}

std::vector<sandbox_dir> list_in(const fs::path& root) {
  std::vector<sandbox_dir> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root, ec)) {
    const std::string name = e.path().filename().string();
    if (is_sandbox_name(name) && e.is_directory(ec) && !e.is_symlink(ec)) out.push_back({e.path(), name});
  }
  std::ranges::sort(out, {}, &sandbox_dir::name);
  return out;
}

result<void> write_record(const sandbox_dir& dir, const sandbox_record& r, std::optional<gid_t> group) {
  const fs::path tmp = dir.path / "record.json.new";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return fail("state-dir", fmt::format("cannot write {}: {}", tmp.string(), std::strerror(errno)));
  const std::string text = render_record(r);
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  if (group) ok = ok && ::fchown(fd, static_cast<uid_t>(-1), *group) == 0 && ::fchmod(fd, 0640) == 0;
  ok = ::close(fd) == 0 && ok;
  if (!ok || ::rename(tmp.c_str(), dir.record().c_str()) != 0) {
    ::unlink(tmp.c_str());
    return fail("state-dir", fmt::format("cannot write {}", dir.record().string()));
  }
  return {};
}

result<sandbox_record> read_record(const sandbox_dir& dir) {
  std::ifstream in(dir.record());
  if (!in) return fail("no-record", fmt::format("cannot read {}", dir.record().string()));
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_record(ss.str());
}

void remove_dir(const sandbox_dir& dir) {
  for (const auto& f : {dir.socket(), dir.record(), dir.log(), dir.path / "record.json.new"}) ::unlink(f.c_str());
  ::rmdir(dir.path.c_str());
}

}  // namespace netpen::app::sandboxes
