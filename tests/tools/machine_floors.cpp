// netpen_machine_floors: what this machine charges for the steps a relay
// cannot avoid, so scripts/bench can print them beside issue 22's targets.
// Prints one JSON object; every loop is bounded (about 3 s in all):
//   syscall_us        a null system call (getppid), median of 5 x 200,000
//   hop_cross_cpu_us  one wake-up of a task on the other CPU: half a pipe
//                     round trip between two processes pinned to CPU 0 and
//                     CPU 1 (null with one CPU), median of 5 x 5,000
//   hop_same_cpu_us   the same with both on CPU 0
//   exec_true_ms      posix_spawn of /bin/true until it is reaped, median
//                     of 40 (the floor of any start that runs a command)
//   fault_us          first touch of an anonymous page, median of 5 x 8,192
//   copy_s_per_gb     CPU-seconds a GB of 64 KiB memcpy takes over a
//                     64 MiB working set, median of 5 x 1 GiB
// Not a test: it measures; the bench reports the figures.
#include <sched.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <vector>

extern char** environ;

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The median of `reps` measurements; nullopt if any of them failed.
std::optional<double> median_of(int reps, const std::function<std::optional<double>()>& once) {
  std::vector<double> v;
  for (int i = 0; i < reps; ++i) {
    const auto x = once();
    if (!x) return std::nullopt;
    v.push_back(*x);
  }
  return median(v);
}

bool pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(static_cast<std::size_t>(cpu), &set);
  return ::sched_setaffinity(0, sizeof set, &set) == 0;
}

std::optional<double> syscall_us() {
  constexpr int n = 200'000;
  const auto t0 = clock_type::now();
  for (int i = 0; i < n; ++i) ::syscall(SYS_getppid);
  return seconds_since(t0) / n * 1e6;
}

// Half the round trip of one byte between two processes over two pipes;
// nullopt if the CPUs cannot be pinned or a pipe fails.
std::optional<double> hop_us(int cpu_a, int cpu_b) {
  constexpr int n = 5'000;
  int there[2], back[2];
  if (::pipe(there) != 0) return std::nullopt;
  if (::pipe(back) != 0) {
    ::close(there[0]);
    ::close(there[1]);
    return std::nullopt;
  }
  const pid_t child = ::fork();
  if (child == 0) {
    if (!pin(cpu_b)) ::_exit(1);
    char c = 0;
    for (int i = 0; i < n; ++i)
      if (::read(there[0], &c, 1) != 1 || ::write(back[1], &c, 1) != 1) ::_exit(1);
    ::_exit(0);
  }
  std::optional<double> result;
  if (child > 0 && pin(cpu_a)) {
    char c = 'x';
    bool ok = true;
    const auto t0 = clock_type::now();
    for (int i = 0; i < n && ok; ++i) ok = ::write(there[1], &c, 1) == 1 && ::read(back[0], &c, 1) == 1;
    if (ok) result = seconds_since(t0) / n / 2 * 1e6;
  }
  for (int fd : {there[0], there[1], back[0], back[1]}) ::close(fd);  // the child sees EOF and ends
  int status = 0;
  if (child > 0) ::waitpid(child, &status, 0);
  if (child <= 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
  return result;
}

std::optional<double> exec_true_ms() {
  std::vector<double> v;
  char arg0[] = "true";
  char* argv[] = {arg0, nullptr};
  for (int i = 0; i < 40; ++i) {
    const auto t0 = clock_type::now();
    pid_t pid = 0;
    if (::posix_spawn(&pid, "/bin/true", nullptr, nullptr, argv, environ) != 0) return std::nullopt;
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
    v.push_back(seconds_since(t0) * 1e3);
  }
  return median(v);
}

std::optional<double> fault_us() {
  constexpr std::size_t pages = 8192;
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  void* m = ::mmap(nullptr, pages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return std::nullopt;
  auto* p = static_cast<volatile char*>(m);
  const auto t0 = clock_type::now();
  for (std::size_t i = 0; i < pages; ++i) p[i * page] = 1;
  const double us = seconds_since(t0) / pages * 1e6;
  ::munmap(m, pages * page);
  return us;
}

std::optional<double> copy_s_per_gb() {
  constexpr std::size_t block = 64 << 10, set = 64 << 20, total = std::size_t{1} << 30;
  std::vector<char> src(set, 1), dst(set, 2);
  std::size_t off = 0;
  const auto t0 = clock_type::now();
  for (std::size_t done = 0; done < total; done += block) {
    std::memcpy(dst.data() + off, src.data() + (off + set / 2) % set, block);
    off = (off + block) % set;
  }
  const double s = seconds_since(t0);
  if (dst[block] != 1) return std::nullopt;  // keeps the copies
  return s / (static_cast<double>(total) / 1e9);
}

void field(const char* name, std::optional<double> v, bool last = false) {
  if (v)
    std::printf("  \"%s\": %.4f%s\n", name, *v, last ? "" : ",");
  else
    std::printf("  \"%s\": null%s\n", name, last ? "" : ",");
}

}  // namespace

int main() {
  const long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  cpu_set_t all;
  if (::sched_getaffinity(0, sizeof all, &all) != 0) return 1;
  const auto sc = median_of(5, syscall_us);
  const auto cross =
      cpus >= 2 && CPU_ISSET(0, &all) && CPU_ISSET(1, &all) ? median_of(5, [] { return hop_us(0, 1); }) : std::nullopt;
  const auto same = CPU_ISSET(0, &all) ? median_of(5, [] { return hop_us(0, 0); }) : std::nullopt;
  ::sched_setaffinity(0, sizeof all, &all);  // the rest runs where it may
  const auto exec_ms = exec_true_ms();
  const auto fault = median_of(5, fault_us);
  const auto copy = median_of(5, copy_s_per_gb);
  std::printf("{\n");
  field("syscall_us", sc);
  field("hop_cross_cpu_us", cross);
  field("hop_same_cpu_us", same);
  field("exec_true_ms", exec_ms);
  field("fault_us", fault);
  field("copy_s_per_gb", copy, true);
  std::printf("}\n");
  return exec_ms && fault && copy ? 0 : 1;
}
