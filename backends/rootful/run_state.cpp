// run_state: the per-run record on disk (see run_state.hpp).
#include "backends/rootful/run_state.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>
#include <system_error>

#include <nlohmann/json.hpp>

#include "backends/common/unique_fd.hpp"
#include "backends/rootful/state_lock.hpp"

namespace netpen::backends::rootful {
namespace fs = std::filesystem;
namespace {

constexpr const char* state_file = "state.json";
constexpr const char* temp_file = "state.json.tmp";
constexpr std::size_t max_state_size = 1 << 20;

std::string errno_text(int e) { return std::strerror(e); }

result<void> write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("state-write", errno_text(errno));
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

result<std::string> read_small_file(int fd, std::size_t limit) {
  std::string out;
  std::array<char, 4096> buf{};
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("bad-state", errno_text(errno));
    }
    if (n == 0) return out;
    out.append(buf.data(), static_cast<std::size_t>(n));
    if (out.size() > limit) return fail("bad-state", "larger than any record netpen writes");
  }
}

// Owned by us and not writable by group or others: a state file is acted on
// as root, so nobody else may have written it.
result<void> check_private(const struct stat& st, const fs::path& path) {
  if (st.st_uid != ::geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
    return fail("bad-state", fmt::format("{} is not owned by us or is writable by others", path.string()));
  return {};
}

result<void> make_private_dir(const fs::path& path, bool may_exist) {
  if (::mkdir(path.c_str(), 0700) != 0) {
    const int e = errno;
    if (e != EEXIST || !may_exist)
      return fail(e == EEXIST ? "run-exists" : "state-dir",
                  fmt::format("cannot create {}: {}", path.string(), errno_text(e)));
    return {};
  }
  if (::chmod(path.c_str(), 0700) != 0)  // exactly 0700, whatever the umask
    return fail("state-dir", fmt::format("cannot set the mode of {}: {}", path.string(), errno_text(errno)));
  return {};
}

}  // namespace

nlohmann::json to_json(const run_record& r) {
  nlohmann::json changes = nlohmann::json::array();
  for (const auto& c : r.changes) changes.push_back(to_json(c));
  nlohmann::json j{{"schema_version", r.schema_version},
                   {"id", r.id},
                   {"pid", r.pid},
                   {"pid_start_time", r.start_time},
                   {"command", r.command},
                   {"netns", r.netns},
                   {"created_unix", r.created_unix},
                   {"changes", std::move(changes)}};
  if (r.netns_cookie) j["netns_cookie"] = *r.netns_cookie;
  return j;
}

result<run_record> run_record_from_json(const nlohmann::json& j) {
  // Wrong types or missing keys throw in nlohmann; here they mean a corrupt
  // file, an expected failure, so they become an error value.
  try {
    if (!j.is_object()) return fail("bad-state", "the record is not a JSON object");
    run_record r;
    r.schema_version = j.at("schema_version").get<int>();
    if (r.schema_version != state_schema_version)
      return fail("bad-state", fmt::format("schema version {} is not {} (another netpen version wrote it)",
                                           r.schema_version, state_schema_version));
    r.id = j.at("id").get<std::string>();
    if (!valid_run_id(r.id)) return fail("bad-state", fmt::format("'{}' is not a run id", r.id));
    const auto& pid = j.at("pid");
    const auto& start = j.at("pid_start_time");
    if (!pid.is_number_integer() || pid.get<std::int64_t>() <= 0 || pid.get<std::int64_t>() > 0x3fffffff ||
        !start.is_number_integer() || start.get<std::int64_t>() < 0)
      return fail("bad-state", "pid or pid_start_time is not a process id and start time");
    r.pid = pid.get<int>();
    r.start_time = start.get<std::uint64_t>();
    r.command = j.at("command").get<std::string>();
    r.netns = j.at("netns").get<std::string>();
    // Optional: records without it (older netpen, older kernels) stay readable.
    if (const auto it = j.find("netns_cookie"); it != j.end() && !it->is_null()) {
      const bool cookie = it->is_number_unsigned() ? it->get<std::uint64_t>() != 0
                                                   : it->is_number_integer() && it->get<std::int64_t>() > 0;
      if (!cookie) return fail("bad-state", "netns_cookie is not a network namespace cookie");
      r.netns_cookie = it->get<std::uint64_t>();
    }
    r.created_unix = j.at("created_unix").get<std::int64_t>();
    const auto& changes = j.at("changes");
    if (!changes.is_array()) return fail("bad-state", "changes is not a list");
    for (const auto& c : changes) {
      auto change = host_change_from_json(c);
      if (!change) return unexpected(change.error());
      r.changes.push_back(std::move(*change));
    }
    return r;
  } catch (const nlohmann::json::exception& e) {
    return fail("bad-state", fmt::format("the record is malformed: {}", e.what()));
  }
}

result<std::uint64_t> parse_start_time(std::string_view stat_line) {
  const auto close = stat_line.rfind(')');
  if (close == std::string_view::npos) return fail("bad-stat", "no ')' after the command name");
  std::string_view rest = stat_line.substr(close + 1);
  // rest starts with field 3 (state); starttime is field 22.
  for (int field = 3;; ++field) {
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    const auto end = std::min(rest.find(' '), rest.size());
    const std::string_view word = rest.substr(0, end);
    if (word.empty()) return fail("bad-stat", "fewer than 22 fields");
    if (field == 22) {
      std::uint64_t v = 0;
      const auto [p, ec] = std::from_chars(word.data(), word.data() + word.size(), v);
      if (ec != std::errc{} || p != word.data() + word.size())
        return fail("bad-stat", fmt::format("starttime '{}' is not a number", word));
      return v;
    }
    rest.remove_prefix(end);
  }
}

std::optional<std::uint64_t> process_start_time(int pid) {
  if (pid <= 0) return std::nullopt;
  unique_fd fd(::open(fmt::format("/proc/{}/stat", pid).c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  auto text = read_small_file(fd.get(), 4096);
  if (!text) return std::nullopt;
  auto t = parse_start_time(*text);
  if (!t) return std::nullopt;
  return *t;
}

bool valid_run_id(std::string_view id) {
  return !id.empty() && id.size() <= 32 &&
         std::ranges::all_of(id, [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); });
}

result<run_record> this_run_record(std::string id, std::string command) {
  const int pid = static_cast<int>(::getpid());
  const auto start = process_start_time(pid);
  if (!start) return fail("proc", "cannot read this process's start time from /proc/self/stat");
  run_record r;
  r.id = std::move(id);
  r.pid = pid;
  r.start_time = *start;
  r.command = std::move(command);
  r.netns = current_netns();
  r.netns_cookie = current_netns_cookie();
  r.created_unix = static_cast<std::int64_t>(std::time(nullptr));
  return r;
}

std::string current_netns() {
  std::error_code ec;
  auto target = std::filesystem::read_symlink("/proc/thread-self/ns/net", ec);
  return ec ? std::string() : target.string();
}

std::optional<std::uint64_t> current_netns_cookie() {
#ifdef SO_NETNS_COOKIE
  // Any socket belongs to the namespace of the thread that made it.
  unique_fd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) return std::nullopt;
  std::uint64_t cookie = 0;
  socklen_t len = sizeof(cookie);
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) != 0 || len != sizeof(cookie) ||
      cookie == 0)
    return std::nullopt;
  return cookie;
#else
  return std::nullopt;
#endif
}

bool is_alive(const run_record& r) {
  const auto start = process_start_time(r.pid);
  return start && *start == r.start_time;
}

result<run_state> run_state::create(const fs::path& root, run_record record) {
  if (!valid_run_id(record.id)) return fail("bad-run-id", fmt::format("'{}' is not a run id", record.id));
  if (auto ok = make_private_dir(root, true); !ok) return unexpected(ok.error());
  // Held from the directory's birth until its first record is in place (or
  // it is gone again): under this lock, a run directory without state.json
  // belongs to a run killed in between, which `netpen cleanup` may remove.
  auto lock = state_lock::acquire(root);
  if (!lock) return unexpected(lock.error());
  const fs::path dir = root / record.id;
  if (auto ok = make_private_dir(dir, false); !ok) return unexpected(ok.error());
  run_state state(dir, std::move(record));
  if (auto ok = state.save(); !ok) {
    std::error_code ec;
    fs::remove_all(dir, ec);
    return unexpected(ok.error());
  }
  return state;
}

result<run_state> run_state::load(const fs::path& dir) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return fail("bad-state", fmt::format("{} is not a directory", dir.string()));
  if (auto ok = check_private(st, dir); !ok) return unexpected(ok.error());
  const fs::path file = dir / state_file;
  unique_fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return fail("bad-state", fmt::format("cannot read {}: {}", file.string(), errno_text(errno)));
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
    return fail("bad-state", fmt::format("{} is not a regular file", file.string()));
  if (auto ok = check_private(st, file); !ok) return unexpected(ok.error());
  auto text = read_small_file(fd.get(), max_state_size);
  if (!text) return fail("bad-state", fmt::format("cannot read {}: {}", file.string(), text.error().message));
  const auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded()) return fail("bad-state", fmt::format("{} is not valid JSON", file.string()));
  auto record = run_record_from_json(j);
  if (!record) return fail("bad-state", fmt::format("{}: {}", file.string(), record.error().message));
  if (record->id != dir.filename().string())
    return fail("bad-state", fmt::format("{}: the id '{}' is not the directory's name", file.string(), record->id));
  return run_state(dir, std::move(*record));
}

result<void> run_state::record_intent(const host_change& change) {
  if (removed_) return fail("state-removed", "the run's record has already been removed");
  auto lock = state_lock::acquire(dir_.parent_path());
  if (!lock) return unexpected(lock.error());
  if (auto fresh = refresh(); !fresh) return fresh;
  record_.changes.push_back(change);
  if (auto ok = save(); !ok) {
    record_.changes.pop_back();
    return ok;
  }
  return {};
}

result<void> run_state::forget(std::size_t index) {
  if (index >= record_.changes.size()) return fail("state-index", "no such change in the run's record");
  if (removed_) {
    record_.changes.erase(record_.changes.begin() + static_cast<std::ptrdiff_t>(index));
    return {};
  }
  auto lock = state_lock::acquire(dir_.parent_path());
  if (!lock) return unexpected(lock.error());
  const host_change wanted = record_.changes[index];
  if (auto fresh = refresh(); !fresh) return fresh;
  if (index >= record_.changes.size() || record_.changes[index] != wanted)
    return fail("state-index", "the run's record on disk no longer has that change there");
  record_.changes.erase(record_.changes.begin() + static_cast<std::ptrdiff_t>(index));
  return save();
}

result<void> run_state::refresh() {
  if (removed_) return {};
  auto fresh = load(dir_);
  if (!fresh) return unexpected(fresh.error());
  record_ = std::move(fresh->record_);
  return {};
}

result<void> run_state::remove() {
  // Without the lock a handover may still find the record (its write then fails, and it undoes the change itself).
  auto lock = state_lock::acquire(dir_.parent_path());
  std::error_code ec;
  fs::remove_all(dir_, ec);
  if (ec) return fail("state-remove", fmt::format("cannot remove {}: {}", dir_.string(), ec.message()));
  removed_ = true;
  return {};
}

// Write a temporary file, fsync it, rename it over state.json, fsync the
// directory: a reader sees the old record or the new one, never half.
result<void> run_state::save() {
  if (removed_) return fail("state-removed", "the run's record has already been removed");
  const fs::path tmp = dir_ / temp_file;
  const fs::path final_path = dir_ / state_file;
  const auto failed = [&](std::string_view step, int e) {
    return fail("state-write", fmt::format("cannot {} {}: {}", step, final_path.string(), errno_text(e)));
  };
  {
    unique_fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd) return failed("write", errno);
    if (::fchmod(fd.get(), 0600) != 0) return failed("set the mode of", errno);
    if (auto ok = write_all(fd.get(), to_json(record_).dump(2) + "\n"); !ok)
      return fail("state-write", fmt::format("cannot write {}: {}", final_path.string(), ok.error().message));
    if (::fsync(fd.get()) != 0) return failed("sync", errno);
  }
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) return failed("replace", errno);
  unique_fd dirfd(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dirfd) ::fsync(dirfd.get());
  return {};
}

bool has_record(const fs::path& dir) {
  struct stat st {};
  return ::lstat((dir / state_file).c_str(), &st) == 0 || errno != ENOENT;
}

std::optional<run_record> read_draft(const fs::path& dir) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || !check_private(st, dir)) return std::nullopt;
  const fs::path file = dir / temp_file;
  unique_fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || !check_private(st, file)) return std::nullopt;
  auto text = read_small_file(fd.get(), max_state_size);
  if (!text) return std::nullopt;
  const auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  auto record = run_record_from_json(j);
  if (!record || record->id != dir.filename().string()) return std::nullopt;
  return std::move(*record);
}

std::vector<fs::path> list_runs(const fs::path& root) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (it->is_directory(type_ec) && !it->is_symlink(type_ec)) out.push_back(it->path());
  }
  std::ranges::sort(out);
  return out;
}

}  // namespace netpen::backends::rootful
