// probe_namespaces (see probes.hpp): a forked child does what the rootless
// backend's first steps do (user namespace, own id map, network, mount and
// pid namespaces, tap device) and reports each step's errno through a pipe.
// The tap lives in the child's own network namespace and goes with it.
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "app/doctor/probes.hpp"

namespace netpen::app::doctor {
namespace {

constexpr int not_reached = -1;
struct step_report {
  int userns = not_reached, id_map = not_reached, other_ns = not_reached, tun_open = not_reached,
      tap_create = not_reached;
};

// Async-signal-safe: called in the forked child only.
int write_text(const char* path, const std::string& text) {
  const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  const ssize_t n = ::write(fd, text.data(), text.size());
  const int e = n == static_cast<ssize_t>(text.size()) ? 0 : (n < 0 ? errno : EIO);
  ::close(fd);
  return e;
}

[[noreturn]] void report_and_exit(int out, const step_report& r) {
  [[maybe_unused]] const auto n = ::write(out, &r, sizeof(r));
  ::_exit(0);
}

[[noreturn]] void child(int out, const std::string& uid_map, const std::string& gid_map) {
  step_report r;
  const auto done = [&] { report_and_exit(out, r); };
  r.userns = ::unshare(CLONE_NEWUSER) == 0 ? 0 : errno;
  if (r.userns != 0) done();
  r.id_map = write_text("/proc/self/setgroups", "deny");
  if (r.id_map == ENOENT) r.id_map = 0;  // kernels before 3.19 have no setgroups file
  if (r.id_map == 0) r.id_map = write_text("/proc/self/uid_map", uid_map);
  if (r.id_map == 0) r.id_map = write_text("/proc/self/gid_map", gid_map);
  r.other_ns = ::unshare(CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWPID) == 0 ? 0 : errno;
  if (r.other_ns != 0) done();  // never a tap in the host's namespace
  const int tun = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  r.tun_open = tun >= 0 ? 0 : errno;
  if (tun < 0) done();
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "npdoctor0", sizeof(ifr.ifr_name) - 1);
  ifr.ifr_flags = static_cast<short>(IFF_TAP | IFF_NO_PI);
  r.tap_create = ::ioctl(tun, TUNSETIFF, &ifr) == 0 ? 0 : errno;
  report_and_exit(out, r);
}

std::optional<int> step(int value) { return value == not_reached ? std::nullopt : std::optional<int>(value); }

}  // namespace

namespace_probe probe_namespaces() {
  namespace_probe probe;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return probe;
  // Made before fork: the child only makes system calls.
  const std::string uid_map = fmt::format("0 {} 1\n", ::getuid());
  const std::string gid_map = fmt::format("0 {} 1\n", ::getgid());
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return probe;
  }
  if (pid == 0) {
    ::close(fds[0]);
    child(fds[1], uid_map, gid_map);
  }
  ::close(fds[1]);
  step_report r;
  pollfd p{fds[0], POLLIN, 0};
  const bool answered = ::poll(&p, 1, 5000) == 1 && ::read(fds[0], &r, sizeof(r)) == static_cast<ssize_t>(sizeof(r));
  ::close(fds[0]);
  if (!answered) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!answered) return probe;
  probe.ran = true;
  probe.userns = step(r.userns);
  probe.id_map = step(r.id_map);
  probe.other_ns = step(r.other_ns);
  probe.tun_open = step(r.tun_open);
  probe.tap_create = step(r.tap_create);
  return probe;
}

}  // namespace netpen::app::doctor
