// The fork / unshare / report-through-a-pipe scaffolding of the root kernel
// tests (see private_netns.hpp).
#include "tests/unit/private_netns.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string_view>
#include <thread>

#include "tests/unit/skip.hpp"

namespace netns_test {
namespace {

// In the child: the body's report, whatever it throws.
std::string child_report(const std::function<std::string()>& body) {
  if (::unshare(CLONE_NEWNET) != 0) return std::string("skip: unshare(CLONE_NEWNET): ") + std::strerror(errno);
  try {
    return body();
  } catch (const netns_failure& f) {
    return f.what.empty() ? "a check failed" : f.what;
  } catch (const std::exception& e) {
    return std::string("exception: ") + e.what();
  } catch (...) {
    return "unknown exception";
  }
}

// Reads the report until EOF or the deadline.
std::string read_report(int fd, std::chrono::steady_clock::time_point deadline, bool& eof) {
  std::string out;
  eof = false;
  while (!eof) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    std::array<char, 512> chunk{};
    const ssize_t n = ::read(fd, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) eof = true;
    else out.append(chunk.data(), static_cast<std::size_t>(n));
  }
  return out;
}

// Reaps the child, killing it at the deadline; false if it had to be killed.
bool reap(pid_t pid, std::chrono::steady_clock::time_point deadline, int& status) {
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid, &status, WNOHANG) == pid) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return false;
}

}  // namespace

std::string run_in_private_netns(const std::function<std::string()>& body, std::chrono::seconds limit) {
  std::array<int, 2> p{};
  if (::pipe2(p.data(), O_CLOEXEC) != 0) return std::string("pipe: ") + std::strerror(errno);
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return std::string("fork: ") + std::strerror(errno);
  if (pid == 0) {
    ::close(p[0]);
    ::alarm(static_cast<unsigned>(limit.count()));
    const std::string report = child_report(body);
    (void)!::write(p[1], report.data(), report.size());
    std::fflush(nullptr);
    ::_exit(0);
  }
  ::close(p[1]);
  const auto deadline = std::chrono::steady_clock::now() + limit + std::chrono::seconds(5);
  bool eof = false;
  const std::string report = read_report(p[0], deadline, eof);
  ::close(p[0]);
  int status = 0;
  // Without EOF the deadline has passed: reap kills the child at once.
  if (!reap(pid, deadline, status) || !eof)
    return "the namespace child did not finish within " + std::to_string(limit.count() + 5) + " s: " + report;
  if (WIFSIGNALED(status))
    return "the namespace child died of signal " + std::to_string(WTERMSIG(status)) + ": " + report;
  return report;
}

void check_in_private_netns(const std::function<std::string()>& body, std::chrono::seconds limit) {
  if (!netpen_test::is_root()) {
    netpen_test::skip("needs root");
    return;
  }
  const std::string report = run_in_private_netns(body, limit);
  if (report.starts_with("skip:")) {
    std::string_view why(report);
    why.remove_prefix(5);
    while (why.starts_with(' ')) why.remove_prefix(1);
    netpen_test::skip(why);
    return;
  }
  INFO(report);
  CHECK(report.empty());
}

}  // namespace netns_test
