// state_lock: the flock on <root>/.lock, re-entrant per process (see state_lock.hpp).
#include "backends/rootful/state_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "backends/common/unique_fd.hpp"

namespace netpen::backends::rootful {
namespace {

// Per process: which roots this process holds, by how many state_locks. The
// recursive mutex is held (by the holding thread) as long as any is.
struct held_locks {
  std::recursive_mutex mutex;
  struct entry {
    unique_fd fd;
    int depth = 0;
  };
  std::map<std::string, entry> roots;
};

held_locks& held() {
  static held_locks h;
  return h;
}

result<unique_fd> lock_file(const std::filesystem::path& root, std::chrono::milliseconds patience) {
  const auto path = root / ".lock";
  unique_fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) return fail("state-lock", fmt::format("cannot open {}: {}", path.string(), std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != ::geteuid())
    return fail("state-lock", fmt::format("{} is not a file of ours", path.string()));
  const auto deadline = std::chrono::steady_clock::now() + patience;
  for (;;) {
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) return fd;
    if (errno != EWOULDBLOCK && errno != EINTR)
      return fail("state-lock", fmt::format("cannot lock {}: {}", path.string(), std::strerror(errno)));
    if (std::chrono::steady_clock::now() >= deadline)
      return fail("state-lock", fmt::format("{} stayed locked by another netpen for {} ms", path.string(),
                                            patience.count()));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace

result<state_lock> state_lock::acquire(const std::filesystem::path& root, std::chrono::milliseconds patience) {
  auto& h = held();
  h.mutex.lock();
  auto& e = h.roots[root.string()];
  if (e.depth == 0) {
    auto fd = lock_file(root, patience);
    if (!fd) {
      h.roots.erase(root.string());
      h.mutex.unlock();
      return unexpected(fd.error());
    }
    e.fd = std::move(*fd);
  }
  ++e.depth;
  return state_lock(root);
}

state_lock::state_lock(state_lock&& other) noexcept : root_(std::move(other.root_)) { other.root_.clear(); }

state_lock::~state_lock() {
  if (root_.empty()) return;
  auto& h = held();
  const auto it = h.roots.find(root_.string());
  if (it != h.roots.end() && --it->second.depth == 0) h.roots.erase(it);  // closing the fd lets the flock go
  h.mutex.unlock();
}

}  // namespace netpen::backends::rootful
