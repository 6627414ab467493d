// Loading netpen's seccomp filter and reporting a refused call (see
// self_confinement.hpp; the list and its reasons: syscall_allow_list.hpp).
#include "app/confine/self_confinement.hpp"

#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include <fmt/format.h>

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

struct filter_deleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using filter = std::unique_ptr<void, filter_deleter>;

int add(scmp_filter_ctx ctx, int nr, std::initializer_list<scmp_arg_cmp> conditions,
        std::uint32_t action = SCMP_ACT_ALLOW) {
  return seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned>(conditions.size()), conditions.begin());
}

// Rules allowing every value of the int argument `arg` but `refused`. The
// kernel reads such an argument's low 32 bits only, so a plain "!=" on the
// 64-bit register would let `refused | 1 << 32` through; instead the 32-bit
// space minus `refused` is covered by aligned blocks, each a masked
// comparison of the low bits (the upper ones ignored, as the kernel does).
// One comparison per argument and rule is all libseccomp takes.
int add_block(scmp_filter_ctx ctx, int nr, unsigned arg, std::uint32_t prefix, int free_bits,
              std::initializer_list<std::uint32_t> refused) {
  const std::uint64_t size = std::uint64_t{1} << free_bits;
  const bool holds_refused = std::ranges::any_of(refused, [&](std::uint32_t v) { return v >= prefix && v - prefix < size; });
  if (!holds_refused) {
    const std::uint64_t mask = 0xffffffffULL & ~(size - 1);
    return add(ctx, nr, {scmp_arg_cmp{arg, SCMP_CMP_MASKED_EQ, mask, prefix}});
  }
  if (free_bits == 0) return 0;  // the refused value itself
  const auto half = static_cast<std::uint32_t>(size / 2);
  if (const int rc = add_block(ctx, nr, arg, prefix, free_bits - 1, refused); rc != 0) return rc;
  return add_block(ctx, nr, arg, prefix + half, free_bits - 1, refused);
}

int add_all_but(scmp_filter_ctx ctx, int nr, unsigned arg, std::initializer_list<std::uint32_t> refused) {
  return add_block(ctx, nr, arg, 0, 32, refused);
}

// One entry's rules (several rules of one call are alternatives).
int add_entry(scmp_filter_ctx ctx, int nr, argument_rule rule) {
  constexpr std::uint32_t write_exec = PROT_WRITE | PROT_EXEC;
  switch (rule) {
    case argument_rule::none: return add(ctx, nr, {});
    case argument_rule::threads_only:
      return add(ctx, nr, {SCMP_A0_64(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD)});
    case argument_rule::socket_families: {
      int rc = 0;
      for (const int family : {AF_UNIX, AF_INET, AF_INET6})
        if (rc == 0) rc = add(ctx, nr, {SCMP_A0_32(SCMP_CMP_EQ, static_cast<std::uint32_t>(family))});
      for (const int protocol : {NETLINK_ROUTE, NETLINK_NETFILTER, NETLINK_SOCK_DIAG})
        if (rc == 0)
          rc = add(ctx, nr, {SCMP_A0_32(SCMP_CMP_EQ, AF_NETLINK), SCMP_A2_32(SCMP_CMP_EQ, static_cast<std::uint32_t>(protocol))});
      return rc;
    }
    case argument_rule::unix_only: return add(ctx, nr, {SCMP_A0_32(SCMP_CMP_EQ, AF_UNIX)});
    case argument_rule::never_write_exec: {
      int rc = 0;
      for (const std::uint32_t prot : {0U, static_cast<std::uint32_t>(PROT_WRITE), static_cast<std::uint32_t>(PROT_EXEC)})
        if (rc == 0) rc = add(ctx, nr, {SCMP_A2_32(SCMP_CMP_MASKED_EQ, write_exec, prot)});
      return rc;
    }
    case argument_rule::not_sigsys: return add_all_but(ctx, nr, 0, {SIGSYS});
    case argument_rule::no_terminal_inject: return add_all_but(ctx, nr, 1, {TIOCSTI, TIOCLINUX});
    case argument_rule::read_only_limits: return add(ctx, nr, {SCMP_A2_64(SCMP_CMP_EQ, 0)});
    case argument_rule::harmless_prctl: {
      int rc = 0;
      for (const int option : {PR_SET_NAME, PR_GET_NAME, PR_GET_DUMPABLE, PR_GET_NO_NEW_PRIVS, PR_GET_SECCOMP,
                               PR_CAPBSET_READ, PR_SET_VMA})
        if (rc == 0) rc = add(ctx, nr, {SCMP_A0_32(SCMP_CMP_EQ, static_cast<std::uint32_t>(option))});
      return rc;
    }
    case argument_rule::seccomp_queries: {
      int rc = add(ctx, nr, {SCMP_A0_32(SCMP_CMP_EQ, SECCOMP_GET_ACTION_AVAIL)});
      if (rc == 0) rc = add(ctx, nr, {SCMP_A0_32(SCMP_CMP_EQ, SECCOMP_GET_NOTIF_SIZES)});
      return rc;
    }
    case argument_rule::network_namespace: return add(ctx, nr, {SCMP_A1_32(SCMP_CMP_EQ, CLONE_NEWNET)});
    case argument_rule::answer_enosys: return add(ctx, nr, {}, SCMP_ACT_ERRNO(ENOSYS));
  }
  return -EINVAL;
}

result<filter> build_filter(const std::vector<allowed_call>& list) {
  filter ctx(seccomp_init(SCMP_ACT_TRAP));
  if (!ctx) return fail("confine", "self-confinement: cannot make a seccomp filter");
  if (seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_TRAP) != 0 ||
      seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 1) != 0 ||
      seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_TSYNC, 1) != 0)
    return fail("confine", "self-confinement: libseccomp refused the filter's attributes");
  for (const auto& call : list) {
    const std::string name(call.name);
    const int nr = seccomp_syscall_resolve_name(name.c_str());
    if (nr == __NR_SCMP_ERROR) return fail("confine", fmt::format("self-confinement: unknown system call {}", name));
    if (const int rc = add_entry(ctx.get(), nr, call.rule); rc != 0)
      return fail("confine", fmt::format("self-confinement: cannot add {}: {}", name, std::strerror(-rc)));
  }
  return ctx;
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

// libseccomp's BPF program for the rules, generated now (the slow part of
// seccomp_load) so that loading it later is one system call. Written to a
// memfd: a pipe could hold less than the program and block.
result<std::vector<sock_filter>> export_program(scmp_filter_ctx ctx) {
  const int fd = ::memfd_create("netpen-seccomp", MFD_CLOEXEC);
  if (fd < 0) return fail("confine", fmt::format("self-confinement: memfd_create: {}", std::strerror(errno)));
  std::vector<sock_filter> program;
  std::string failure;
  if (const int rc = seccomp_export_bpf(ctx, fd); rc != 0) {
    failure = fmt::format("cannot generate the seccomp filter: {}", std::strerror(-rc));
  } else {
    const off_t size = ::lseek(fd, 0, SEEK_END);
    if (size <= 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0 ||
        size > static_cast<off_t>(BPF_MAXINSNS * sizeof(sock_filter))) {
      failure = fmt::format("the generated seccomp filter has an unexpected size ({} bytes)", size);
    } else {
      program.resize(static_cast<std::size_t>(size) / sizeof(sock_filter));
      if (::pread(fd, program.data(), static_cast<std::size_t>(size), 0) != size)
        failure = "cannot read the generated seccomp filter back";
    }
  }
  ::close(fd);
  if (!failure.empty()) return fail("confine", "self-confinement: " + failure);
  return program;
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
  auto ctx = build_filter(out.list);
  if (!ctx) return unexpected<error>(ctx.error());
  auto program = export_program(ctx->get());
  if (!program) return unexpected<error>(program.error());
  out.program = std::move(*program);
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
