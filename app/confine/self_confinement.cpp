// Loading netpen's seccomp filter and reporting a refused call (see
// self_confinement.hpp; the list and its reasons: syscall_allow_list.hpp).
#include "app/confine/self_confinement.hpp"

#include <seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "app/confine/seccomp_filters.hpp"
#include "app/confine/syscall_names.hpp"
#include "net/common/log.hpp"

namespace netpen::app::confine {
namespace {

// What the SIGSYS handler reads besides the name table (syscall_names.hpp):
// set before the filter is loaded, never changed afterwards (the handler
// only reads, so no locking is needed).
std::uint32_t native_arch = 0;
std::atomic<pid_t> tree_init{0};

constexpr char message_head[] = "netpen: error: self-confinement: netpen made the forbidden system call ";
constexpr char message_tail[] = "; netpen and its tree are stopped (run 'netpen cleanup' if anything is left)\n";
constexpr int refused_status = 128 + SIGSYS;

void append(char* line, std::size_t& used, std::size_t cap, const char* text) {
  while (*text != '\0' && used + 1 < cap) line[used++] = *text++;
}

void append_number(char* line, std::size_t& used, std::size_t cap, long value) {
  char digits[24];
  int n = 0;
  unsigned long v = value < 0 ? static_cast<unsigned long>(-value) : static_cast<unsigned long>(value);
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0 && n < 22);
  if (value < 0 && used + 1 < cap) line[used++] = '-';
  while (n > 0 && used + 1 < cap) line[used++] = digits[--n];
}

// Async-signal-safe: only write, kill and _exit, all on the list.
void on_refused_call(int, siginfo_t* info, void*) {
  char line[320];
  std::size_t used = 0;
  append(line, used, sizeof line, message_head);
  const int nr = info->si_syscall;
  const char* name = info->si_arch == native_arch ? syscall_name_of(nr) : nullptr;
  if (name != nullptr) {
    append(line, used, sizeof line, name);
  } else {
    append(line, used, sizeof line, "number ");
    append_number(line, used, sizeof line, nr);
    if (info->si_arch != native_arch) append(line, used, sizeof line, " of another architecture");
  }
  append(line, used, sizeof line, message_tail);
  (void)!::write(STDERR_FILENO, line, used);
  if (const pid_t init = tree_init.load(std::memory_order_relaxed); init > 0) ::kill(init, SIGKILL);
  ::_exit(refused_status);
}

void print_list(const std::vector<allowed_call>& list) {
  if (!log::debug_enabled()) return;
  std::string names;
  for (const auto& call : list) {
    names += names.empty() ? "" : ", ";
    names += call.name;
    if (const auto rule = describe(call.rule); !rule.empty()) names += fmt::format(" ({})", rule);
  }
  log::debug("self-confinement: {} system calls allowed, every other one stops netpen and its tree: {}", list.size(),
             names);
}

}  // namespace

bool enabled() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  return false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
  return false;
#else
  return true;
#endif
#else
  return true;
#endif
}

result<prepared_filter> prepare(const confinement_needs& needs) {
  prepared_filter out;
  if (!enabled()) return out;
  out.list = allow_list(needs);
  const auto program = precompiled_filter(needs);  // compiled at build time
  out.program.assign(program.begin(), program.end());
  return out;
}

result<void> install(const prepared_filter& filter, pid_t init) {
  if (!enabled()) {
    log::debug("self-confinement: off in this sanitizer build (its runtime needs calls the allow-list refuses)");
    return {};
  }
  if (filter.program.empty()) return fail("confine", "self-confinement: no filter was prepared");
  native_arch = seccomp_arch_native();
  tree_init.store(init, std::memory_order_relaxed);
  struct sigaction sa{};
  sa.sa_sigaction = on_refused_call;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  if (::sigaction(SIGSYS, &sa, nullptr) != 0)
    return fail("confine", fmt::format("self-confinement: cannot handle SIGSYS: {}", std::strerror(errno)));
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    return fail("confine", fmt::format("self-confinement: cannot set no_new_privs: {}", std::strerror(errno)));
  // Loaded as a whole or not at all: with TSYNC the kernel puts the filter
  // (and no_new_privs) on every thread at once, or on none and returns the
  // id of a thread it could not synchronise (> 0) or an error; either way
  // netpen stops before the command runs.
  sock_fprog prog{};
  prog.len = static_cast<unsigned short>(filter.program.size());
  prog.filter = const_cast<sock_filter*>(filter.program.data());
  const long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog);
  if (rc != 0)
    return fail("confine", fmt::format("self-confinement: cannot load the seccomp filter: {}",
                                       rc < 0 ? std::strerror(errno) : fmt::format("thread {} not synchronised", rc)));
  print_list(filter.list);
  return {};
}

result<void> install(const confinement_needs& needs, pid_t init) {
  auto filter = prepare(needs);
  if (!filter) return unexpected<error>(filter.error());
  return install(*filter, init);
}

void test_forbidden_call_if_asked() {
  const char* value = std::getenv("NETPEN_TEST_FORBIDDEN_SYSCALL");
  if (value == nullptr || *value == '\0') return;
  const int seconds = std::atoi(value);
  log::warn("NETPEN_TEST_FORBIDDEN_SYSCALL: a test asked netpen to make a forbidden system call in {} s", seconds);
  std::thread([seconds] {
    std::this_thread::sleep_for(std::chrono::seconds(seconds));
    ::syscall(SYS_personality, 0xffffffffUL);  // a query; refused by the filter
  }).detach();
}

}  // namespace netpen::app::confine
