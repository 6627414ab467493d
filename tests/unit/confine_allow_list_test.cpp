// netpen's self-confinement: the allow-list as data (what it must hold,
// what it must never hold, the argument rules), and the loaded filter's
// argument policy seen from a forked child (refused calls end it with 159).
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <set>
#include <string>

#include "app/confine/filter_compiler.hpp"
#include "app/confine/seccomp_filters.hpp"
#include "app/confine/self_confinement.hpp"
#include "app/confine/syscall_names.hpp"
#include "app/confine/syscall_allow_list.hpp"
#include "skip.hpp"

namespace {

using netpen::app::confine::allow_list;
using netpen::app::confine::argument_rule;
using netpen::app::confine::confinement_needs;
using netpen::app::confine::forbidden_calls;

const netpen::app::confine::allowed_call* find(const std::vector<netpen::app::confine::allowed_call>& list,
                                               std::string_view name) {
  auto it = std::ranges::find_if(list, [&](const auto& c) { return c.name == name; });
  return it == list.end() ? nullptr : &*it;
}

// Runs `body` in a forked child after loading netpen's filter; its status.
int confined_child(const std::function<int()>& body) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, STDERR_FILENO);  // the refusal's line is not the test's output
    if (!netpen::app::confine::install(netpen::app::confine::confinement_needs{}, 0)) ::_exit(200);
    ::_exit(body());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + WTERMSIG(status);
}

constexpr int refused = 128 + SIGSYS;

}  // namespace

TEST_CASE("the allow-list holds what the relay, the daemon and the unix guard need") {
  const auto list = allow_list({});
  for (const char* name :
       {"read", "write", "close", "epoll_wait", "epoll_ctl", "futex", "clone", "exit_group", "wait4", "kill", "openat",
        "socket", "connect", "bind", "listen", "accept4", "sendmsg", "recvmsg", "sendto", "recvfrom", "unlinkat",
        // what the Unix-socket guard's supervisor (seccomp user notification) uses
        "ioctl", "process_vm_readv", "pidfd_open", "pidfd_getfd", "openat2", "newfstatat", "statx", "setresuid", "setgroups",
        "setresgid"}) {
    INFO(name);
    CHECK(find(list, name) != nullptr);
  }
}

TEST_CASE("the allow-list holds none of the forbidden calls, in any configuration") {
  for (const bool tree_sockets : {false, true}) {
    const auto list = allow_list(confinement_needs{tree_sockets});
    for (const auto name : forbidden_calls()) {
      INFO(name);
      CHECK(find(list, name) == nullptr);
    }
  }
  for (const char* name : {"execve", "execveat", "ptrace", "process_vm_writev", "mount", "umount2", "unshare",
                           "pivot_root", "chroot", "bpf", "perf_event_open", "kexec_load", "kexec_file_load",
                           "init_module", "finit_module", "delete_module", "keyctl", "add_key", "request_key",
                           "userfaultfd", "personality", "iopl", "ioperm", "swapon", "reboot", "fork", "vfork"}) {
    INFO(name);
    CHECK(std::ranges::find(forbidden_calls(), std::string_view(name)) != forbidden_calls().end());
  }
}

TEST_CASE("io_uring: only io_uring_enter (the tap's restricted ring), and no ring can be set up or changed") {
  const auto list = allow_list({});
  CHECK(find(list, "io_uring_enter") != nullptr);
  CHECK(find(list, "io_uring_setup") == nullptr);
  CHECK(find(list, "io_uring_register") == nullptr);
  for (const char* name : {"io_uring_setup", "io_uring_register"})
    CHECK(std::ranges::find(forbidden_calls(), std::string_view(name)) != forbidden_calls().end());
}

TEST_CASE("setns is allowed only for --root --publish, and only into a network namespace") {
  CHECK(find(allow_list({}), "setns") == nullptr);
  const auto list = allow_list(confinement_needs{true});
  REQUIRE(find(list, "setns") != nullptr);
  CHECK(find(list, "setns")->rule == argument_rule::network_namespace);
}

TEST_CASE("argument rules: threads only, known socket families, never writable and executable") {
  const auto list = allow_list({});
  CHECK(find(list, "clone")->rule == argument_rule::threads_only);
  CHECK(find(list, "clone3")->rule == argument_rule::answer_enosys);
  CHECK(find(list, "socket")->rule == argument_rule::socket_families);
  CHECK(find(list, "socketpair")->rule == argument_rule::unix_only);
  CHECK(find(list, "mmap")->rule == argument_rule::never_write_exec);
  CHECK(find(list, "mprotect")->rule == argument_rule::never_write_exec);
  CHECK(find(list, "pkey_mprotect")->rule == argument_rule::never_write_exec);
  CHECK(find(list, "rt_sigaction")->rule == argument_rule::not_sigsys);
  CHECK(find(list, "ioctl")->rule == argument_rule::no_terminal_inject);
  CHECK(find(list, "prlimit64")->rule == argument_rule::read_only_limits);
  CHECK(find(list, "prctl")->rule == argument_rule::harmless_prctl);
  CHECK(find(list, "seccomp")->rule == argument_rule::seccomp_queries);
}

TEST_CASE("every name on the list is a system call of this architecture, listed once") {
  const auto list = allow_list(confinement_needs{true});
  std::set<std::string_view> seen;
  for (const auto& call : list) {
    INFO(call.name);
    CHECK(seen.insert(call.name).second);
    CHECK(seccomp_syscall_resolve_name(std::string(call.name).c_str()) != __NR_SCMP_ERROR);
    CHECK_FALSE(call.why.empty());
  }
}

TEST_CASE("the loaded filter refuses what the list forbids and allows what it holds") {
  if (!netpen::app::confine::enabled()) SKIP_TEST("a sanitizer build does not confine itself");
  CHECK(confined_child([] { return ::getpid() > 0 ? 0 : 1; }) == 0);
  CHECK(confined_child([] {
          const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
          return fd >= 0 ? 0 : 1;
        }) == 0);
  CHECK(confined_child([] { return static_cast<int>(::syscall(SYS_personality, 0xffffffffUL) >= 0); }) == refused);
  CHECK(confined_child([] { return ::fork() >= 0 ? 0 : 1; }) == refused);
  CHECK(confined_child([] {
          char* argv[] = {const_cast<char*>("/bin/true"), nullptr};
          return ::execve("/bin/true", argv, nullptr);
        }) == refused);
  CHECK(confined_child([] { return ::socket(AF_BLUETOOTH, SOCK_STREAM, 0); }) == refused);
  CHECK(confined_child([] { return ::socket(AF_PACKET, SOCK_RAW, 0); }) == refused);
  CHECK(confined_child([] {
          const int fd = ::socket(AF_NETLINK, SOCK_RAW, 4 /* NETLINK_SOCK_DIAG */);
          return fd >= 0 ? 0 : 1;
        }) == 0);
  CHECK(confined_child([] { return ::socket(AF_NETLINK, SOCK_RAW, 9 /* NETLINK_AUDIT */); }) == refused);
  CHECK(confined_child([] {
          void* p = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
          return p == MAP_FAILED ? 1 : 0;
        }) == refused);
  CHECK(confined_child([] {
          void* p = ::mmap(nullptr, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
          return p == MAP_FAILED ? 1 : 0;
        }) == 0);
  CHECK(confined_child([] {
          char c = 'x';
          return ::ioctl(0, TIOCSTI, &c);
        }) == refused);
  CHECK(confined_child([] {
          // high bits must not hide the request: the kernel reads 32 bits
          char c = 'x';
          return static_cast<int>(::syscall(SYS_ioctl, 0, 0x100000000UL | TIOCSTI, &c));
        }) == refused);
  CHECK(confined_child([] {
          struct sigaction sa{};
          sa.sa_handler = SIG_IGN;
          return ::sigaction(SIGSYS, &sa, nullptr);
        }) == refused);
  CHECK(confined_child([] {
          // the kernel reads the signal's low 32 bits: SIGSYS with a high bit set is still SIGSYS
          struct sigaction sa{};
          sa.sa_handler = SIG_IGN;
          return static_cast<int>(::syscall(SYS_rt_sigaction, (1UL << 32) | SIGSYS, &sa, nullptr, 8));
        }) == refused);
  CHECK(confined_child([] {
          struct sigaction sa{};
          sa.sa_handler = SIG_IGN;
          return ::sigaction(SIGUSR1, &sa, nullptr);
        }) == 0);
  CHECK(confined_child([] {
          int n = 0;
          return ::ioctl(0, FIONREAD, &n) == 0 || errno != ENOSYS ? 0 : 1;
        }) == 0);
  CHECK(confined_child([] { return ::syscall(SYS_clone3, nullptr, 0) == -1 && errno == ENOSYS ? 0 : 1; }) == 0);
  CHECK(confined_child([] {
          seccomp_notif_sizes sizes{};
          return static_cast<int>(::syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes));
        }) == 0);
  CHECK(confined_child([] { return static_cast<int>(::syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, nullptr)); }) ==
        refused);
  CHECK(confined_child([] { return static_cast<int>(::syscall(SYS_setns, -1, 0)); }) == refused);
  CHECK(confined_child([] { return ::prctl(PR_SET_NAME, "confined", 0, 0, 0); }) == 0);
  CHECK(confined_child([] { return ::prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0); }) == refused);
  CHECK(confined_child([] { return ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0); }) == refused);
  CHECK(confined_child([] { return ::prlimit(0, RLIMIT_NOFILE, nullptr, nullptr); }) == 0);
  CHECK(confined_child([] {
          rlimit lim{0, 0};
          return ::prlimit(0, RLIMIT_CORE, &lim, nullptr);
        }) == refused);
}

TEST_CASE("the filters compiled at build time are what libseccomp compiles now", "[confine]") {
  for (const bool tree_sockets : {false, true}) {
    confinement_needs needs;
    needs.tree_namespace_sockets = tree_sockets;
    const auto fresh = netpen::app::confine::compile_filter(needs);
    REQUIRE(fresh);
    const auto built = netpen::app::confine::precompiled_filter(needs);
    REQUIRE(built.size() == fresh->size());
    for (std::size_t i = 0; i < built.size(); ++i) {
      INFO("tree sockets " << tree_sockets << ", instruction " << i);
      CHECK(built[i].code == (*fresh)[i].code);
      CHECK(built[i].jt == (*fresh)[i].jt);
      CHECK(built[i].jf == (*fresh)[i].jf);
      CHECK(built[i].k == (*fresh)[i].k);
    }
  }
  // The two programs differ (setns is only in the second).
  CHECK(netpen::app::confine::precompiled_filter({}).size() !=
        netpen::app::confine::precompiled_filter(confinement_needs{true}).size());
}

TEST_CASE("the SIGSYS handler's name table agrees with libseccomp", "[confine]") {
  using netpen::app::confine::syscall_name_of;
  CHECK(std::string(syscall_name_of(SYS_personality)) == "personality");
  CHECK(std::string(syscall_name_of(SYS_read)) == "read");
  CHECK(syscall_name_of(-1) == nullptr);
  CHECK(syscall_name_of(100000) == nullptr);
  for (int nr = 0; nr < 1024; ++nr) {
    char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
    const char* ours = syscall_name_of(nr);
    INFO("system call " << nr);
    if (name == nullptr) {
      CHECK(ours == nullptr);
    } else {
      REQUIRE(ours != nullptr);
      CHECK(std::string(ours) == name);
    }
    std::free(name);  // NOLINT: libseccomp's malloc'ed name
  }
}
