// A capture point's reader thread for non-blocking descriptors: it waits in
// poll(2) on them and on an eventfd that stop() signals, and calls `drain`
// whenever one is readable (and once more after stop(), so what was already
// queued still counts). All signals are blocked on the thread. The thread
// starts only in start(): a reader may be made before netpen forks the
// sandbox, which needs a process without threads.
#pragma once
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "net/common/error.hpp"

namespace netpen::capture {

class fd_reader {
 public:
  // `drain` reads what is queued without blocking. `what` names the thread
  // in errors. Error code: capture (no eventfd).
  static result<std::unique_ptr<fd_reader>> open(std::vector<int> fds, std::function<void()> drain, std::string what);
  ~fd_reader();  // stop()
  fd_reader(const fd_reader&) = delete;
  fd_reader& operator=(const fd_reader&) = delete;

  // Starts the thread (idempotent). Error code: capture-thread.
  result<void> start();
  // Stops the thread after a last drain and joins it. Idempotent, thread-safe.
  void stop();

 private:
  fd_reader(std::vector<int> fds, int wake_fd, std::function<void()> drain, std::string what);
  void run();

  const std::vector<int> fds_;
  const int wake_fd_;
  const std::function<void()> drain_;
  const std::string what_;
  std::mutex mu_;
  std::thread thread_;
  bool stopped_ = false;
};

}  // namespace netpen::capture
