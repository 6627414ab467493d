// uid/gid map writing (see uid_map.hpp).
#include "backends/rootless/uid_map.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "backends/common/unique_fd.hpp"
#include "net/common/log.hpp"

extern char** environ;

namespace netpen::backends::rootless {
namespace {

bool parse_ulong(std::string_view s, unsigned long& out) {
  if (s.empty()) return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// Writes the whole string to a /proc map file; returns errno or 0.
int write_proc_file(const std::string& path, std::string_view content) {
  unique_fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return errno;
  const ssize_t n = ::write(fd.get(), content.data(), content.size());
  if (n < 0) return errno;
  return static_cast<std::size_t>(n) == content.size() ? 0 : EIO;
}

std::string read_file(const char* path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs a helper, returns its stderr (trimmed) as the error text on failure.
result<void> run_helper(const std::vector<std::string>& argv) {
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return fail("uidmap-failed", "cannot create a pipe for the uidmap helper");
  unique_fd rd(pipefd[0]), wr(pipefd[1]);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, wr.get(), STDERR_FILENO);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  wr.reset();
  if (rc != 0)
    return fail("uidmap-helpers-missing",
                fmt::format("cannot run {}: {}; install it with 'sudo apt install uidmap' (or your "
                            "distribution's shadow-utils)",
                            argv[0], std::strerror(rc)));
  std::string err;
  char buf[512];
  ssize_t n = 0;
  while ((n = ::read(rd.get(), buf, sizeof buf)) > 0 && err.size() < 2048) err.append(buf, static_cast<std::size_t>(n));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
  return fail("uidmap-failed", fmt::format("{} failed{}{}", argv[0], err.empty() ? "" : ": ", err));
}

struct ids {
  unsigned long uid, gid;
  std::string user, group;
};

ids invoking_ids() { return ids{::getuid(), ::getgid(), {}, {}}; }

// Names are only needed to find /etc/subuid ranges for the helpers; looking
// them up (NSS) on every run cost start-up time for nothing.
ids with_names(ids r) {
  if (const passwd* pw = ::getpwuid(static_cast<uid_t>(r.uid))) r.user = pw->pw_name;
  if (const group* gr = ::getgrgid(static_cast<gid_t>(r.gid))) r.group = gr->gr_name;
  return r;
}

// Writes the planned maps directly (root, or one line of one's own ids).
result<void> write_direct(pid_t pid, const id_map_plan& plan) {
  const std::string base = fmt::format("/proc/{}/", pid);
  if (int e = write_proc_file(base + "uid_map", plan.uid_map); e != 0)
    return fail("uidmap-direct", fmt::format("writing uid_map: {}", std::strerror(e)));
  if (plan.deny_setgroups) {
    if (int e = write_proc_file(base + "setgroups", "deny"); e != 0 && e != ENOENT)
      return fail("uidmap-direct", fmt::format("writing setgroups: {}", std::strerror(e)));
  }
  if (int e = write_proc_file(base + "gid_map", plan.gid_map); e != 0)
    return fail("uidmap-direct", fmt::format("writing gid_map: {}", std::strerror(e)));
  return {};
}

result<void> write_with_helpers(pid_t pid, const ids& invoking, const id_map_plan& plan) {
  const ids me = with_names(invoking);
  const auto sub_u = parse_subid(read_file("/etc/subuid"), me.user, me.uid);
  const auto sub_g = parse_subid(read_file("/etc/subgid"), me.group.empty() ? me.user : me.group, me.gid);
  if (!sub_u || !sub_g)
    log::debug("no /etc/subuid or /etc/subgid range for {}; mapping the invoking ids only", me.user);
  if (auto r = run_helper(helper_argv("newuidmap", pid, plan.inside_uid, me.uid, sub_u)); !r) return r;
  return run_helper(helper_argv("newgidmap", pid, plan.inside_gid, me.gid, sub_g));
}

}  // namespace

std::optional<id_range> parse_subid(std::string_view text, std::string_view user_name, unsigned long id) {
  const std::string id_text = std::to_string(id);
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.empty() || line.front() == '#') continue;
    const auto c1 = line.find(':');
    if (c1 == std::string_view::npos) continue;
    const auto c2 = line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    const auto who = line.substr(0, c1);
    if (who != id_text && (user_name.empty() || who != user_name)) continue;
    id_range r;
    if (!parse_ulong(line.substr(c1 + 1, c2 - c1 - 1), r.start) || !parse_ulong(line.substr(c2 + 1), r.count) ||
        r.count == 0)
      continue;
    return r;
  }
  return std::nullopt;
}

std::string map_line(unsigned long inside, unsigned long outside, unsigned long count) {
  return fmt::format("{} {} {}\n", inside, outside, count);
}

id_map_plan plan_id_maps(unsigned long uid, unsigned long gid, bool keep_ids, bool host_ids) {
  id_map_plan p;
  if (host_ids) {  // 0..2^32-2 onto themselves (needs CAP_SETUID and CAP_SETGID outside: real root)
    p.inside_uid = uid;
    p.inside_gid = gid;
    p.uid_map = p.gid_map = map_line(0, 0, 4294967295UL);
    p.deny_setgroups = false;  // the init calls setgroups for each member
    return p;
  }
  p.inside_uid = keep_ids ? uid : 0;
  p.inside_gid = keep_ids ? gid : 0;
  p.uid_map = map_line(p.inside_uid, uid, 1);
  p.gid_map = map_line(p.inside_gid, gid, 1);
  return p;
}

std::vector<std::string> helper_argv(std::string_view helper, pid_t pid, unsigned long inside,
                                     unsigned long outside, std::optional<id_range> sub) {
  std::vector<std::string> a{std::string(helper), std::to_string(pid), std::to_string(inside),
                             std::to_string(outside), "1"};
  if (sub) {
    // Extra ids go right after the inside id, or below it when it is not 0.
    const unsigned long first = inside == 0 ? 1 : 0;
    const unsigned long count = inside == 0 ? std::min(sub->count, 65536UL) : std::min(sub->count, inside);
    if (count > 0) {
      a.push_back(std::to_string(first));
      a.push_back(std::to_string(sub->start));
      a.push_back(std::to_string(count));
    }
  }
  return a;
}

result<void> write_id_maps(pid_t pid, bool keep_ids, bool host_ids) {
  const ids me = invoking_ids();
  const id_map_plan plan = plan_id_maps(me.uid, me.gid, keep_ids, host_ids);
  if (host_ids) return write_direct(pid, plan);
  const char* mode = std::getenv("NETPEN_UIDMAP");
  const bool force_helper = mode != nullptr && std::string_view(mode) == "helper";
  std::string direct_error = "skipped (NETPEN_UIDMAP=helper)";
  if (!force_helper) {
    auto r = write_direct(pid, plan);
    if (r) {
      log::debug("uid/gid maps written directly");
      return {};
    }
    direct_error = r.error().message;
    log::debug("direct uid/gid map failed ({}); trying newuidmap/newgidmap", direct_error);
  }
  auto h = write_with_helpers(pid, me, plan);
  if (h) {
    log::debug("uid/gid maps written by newuidmap/newgidmap");
    return {};
  }
  return fail(h.error().code,
              fmt::format("cannot map ids into the sandbox's user namespace (direct write: {}; {}); make sure "
                          "/etc/subuid and /etc/subgid have a range for '{}' (e.g. 'sudo usermod --add-subuids "
                          "100000-165535 --add-subgids 100000-165535 {}') and that newuidmap/newgidmap are "
                          "installed setuid (package uidmap)",
                          direct_error, h.error().message, with_names(me).user, with_names(me).user));
}

}  // namespace netpen::backends::rootless
