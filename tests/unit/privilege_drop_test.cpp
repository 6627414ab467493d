// Unit tests for the tree's capability drop: in a forked child (root has
// CAP_SETPCAP), drop_tree_privileges() leaves the child its own effective
// capabilities while a program it then runs, as uid 0, holds none.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdio>
#include <string>

#include "backends/common/privilege_drop.hpp"
#include "skip.hpp"

using netpen::backends::drop_tree_privileges;

namespace {

// The Cap* lines of /proc/self/status of `cat` run after the drop, and the
// child's own CapEff before it execs (one line each, via a pipe).
std::string status_after_drop() {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(fds[1], 1);
    if (!drop_tree_privileges()) ::_exit(3);
    std::FILE* self = std::fopen("/proc/self/status", "re");
    char line[256];
    while (self != nullptr && std::fgets(line, sizeof line, self) != nullptr)
      if (std::string(line).starts_with("CapEff:")) std::printf("init %s", line);
    std::fflush(stdout);
    ::execl("/bin/grep", "grep", "^Cap", "/proc/self/status", static_cast<char*>(nullptr));
    ::_exit(4);
  }
  ::close(fds[1]);
  std::string out;
  char buf[512];
  ssize_t n = 0;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  return out;
}

}  // namespace

TEST_CASE("privilege drop: what uid 0 execs afterwards holds no capability", "[privilege-drop][root]") {
  SKIP_UNLESS_ROOT();
  const std::string out = status_after_drop();
  INFO(out);
  CHECK(out.find("init CapEff:\t0000000000000000") == std::string::npos);  // the init keeps its own
  for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"})
    CHECK(out.find(std::string(set) + ":\t0000000000000000\n") != std::string::npos);
}
