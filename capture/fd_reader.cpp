// A capture point's reader thread (see fd_reader.hpp).
#include "capture/fd_reader.hpp"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <system_error>

namespace netpen::capture {

result<std::unique_ptr<fd_reader>> fd_reader::open(std::vector<int> fds, std::function<void()> drain,
                                                   std::string what) {
  const int wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake < 0) return fail("capture", std::string("eventfd: ") + std::strerror(errno));
  return std::unique_ptr<fd_reader>(new fd_reader(std::move(fds), wake, std::move(drain), std::move(what)));
}

fd_reader::fd_reader(std::vector<int> fds, int wake_fd, std::function<void()> drain, std::string what)
    : fds_(std::move(fds)), wake_fd_(wake_fd), drain_(std::move(drain)), what_(std::move(what)) {}

fd_reader::~fd_reader() {
  stop();
  ::close(wake_fd_);
}

result<void> fd_reader::start() {
  const std::lock_guard lk(mu_);
  if (stopped_ || thread_.joinable()) return {};
  try {
    thread_ = std::thread([this] { run(); });
  } catch (const std::system_error& e) {
    return fail("capture-thread", "cannot start the " + what_ + " thread: " + e.what());
  }
  return {};
}

void fd_reader::stop() {
  const std::lock_guard lk(mu_);
  if (stopped_) return;
  stopped_ = true;
  const std::uint64_t one = 1;
  (void)::write(wake_fd_, &one, sizeof one);
  if (thread_.joinable()) thread_.join();
}

void fd_reader::run() {
  sigset_t all;
  sigfillset(&all);
  sigdelset(&all, SIGSYS);  // synchronous: self-confinement reports a refused call on this thread
  ::pthread_sigmask(SIG_BLOCK, &all, nullptr);  // process signals go to other threads
  std::vector<pollfd> fds;
  fds.push_back({wake_fd_, POLLIN, 0});
  for (const int fd : fds_) fds.push_back({fd, POLLIN, 0});
  for (;;) {
    // Never spins: poll fails only with invalid descriptors.
    if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) return;
    drain_();
    if ((fds[0].revents & POLLIN) != 0) return;  // after the last drain
  }
}

}  // namespace netpen::capture
