// The invoking user and the drop to it (see identity.hpp).
#include "backends/common/identity.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

extern char** environ;

namespace netpen::backends {
namespace {

std::optional<unsigned> parse_id(const char* text) {
  if (text == nullptr || *text == '\0') return std::nullopt;
  unsigned v = 0;
  const auto* end = text + std::strlen(text);
  auto [p, ec] = std::from_chars(text, end, v);
  if (ec != std::errc{} || p != end) return std::nullopt;
  return v;
}

}  // namespace

result<std::optional<command_identity>> invoking_user() {
  const char* uid_text = std::getenv("SUDO_UID");
  const char* gid_text = std::getenv("SUDO_GID");
  if (uid_text == nullptr) return std::optional<command_identity>{};
  const auto uid = parse_id(uid_text);
  const auto gid = parse_id(gid_text);
  if (!uid || !gid)
    return fail("bad-sudo-ids", fmt::format("SUDO_UID/SUDO_GID are not numeric ids ('{}', '{}')", uid_text,
                                            gid_text ? gid_text : ""));
  if (*uid == 0) return std::optional<command_identity>{};
  command_identity who = identity_of(*uid, *gid);
  if (who.home.empty()) {  // no password entry: as sudo named it
    const char* name = std::getenv("SUDO_USER");
    who.user = name != nullptr ? name : std::to_string(who.uid);
    who.home = "/";
  }
  return std::optional<command_identity>{std::move(who)};
}

command_identity identity_of(uid_t uid, gid_t gid) {
  command_identity who;
  who.uid = uid;
  who.gid = gid;
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* found = nullptr;
  if (::getpwuid_r(who.uid, &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr) {
    who.user = pw.pw_name;
    who.home = pw.pw_dir;
    int n = 64;
    std::vector<gid_t> groups(static_cast<std::size_t>(n));
    if (::getgrouplist(pw.pw_name, who.gid, groups.data(), &n) < 0) {
      groups.resize(static_cast<std::size_t>(n));
      ::getgrouplist(pw.pw_name, who.gid, groups.data(), &n);
    }
    groups.resize(static_cast<std::size_t>(std::max(n, 0)));
    who.groups = std::move(groups);
  } else {
    who.user = std::to_string(who.uid);
    who.groups = {who.gid};
  }
  return who;
}

result<void> become(const command_identity& who) {
  if (::setgroups(who.groups.size(), who.groups.data()) != 0)
    return fail("drop-privileges", fmt::format("setgroups for {} failed: {}", who.user, std::strerror(errno)));
  if (::setresgid(who.gid, who.gid, who.gid) != 0)
    return fail("drop-privileges", fmt::format("setresgid({}) failed: {}", who.gid, std::strerror(errno)));
  if (::setresuid(who.uid, who.uid, who.uid) != 0)
    return fail("drop-privileges", fmt::format("setresuid({}) failed: {}", who.uid, std::strerror(errno)));
  if (::setuid(0) == 0) return fail("drop-privileges", "the command could regain root after dropping privileges");
  return {};
}

std::vector<std::string> command_environment(const std::optional<command_identity>& who) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string_view v(*e);
    if (who && (v.starts_with("SUDO_") || v.starts_with("HOME=") || v.starts_with("USER=") ||
                v.starts_with("LOGNAME=")))
      continue;
    env.emplace_back(v);
  }
  if (who) {
    env.push_back("HOME=" + who->home);
    env.push_back("USER=" + who->user);
    env.push_back("LOGNAME=" + who->user);
  }
  return env;
}

}  // namespace netpen::backends
