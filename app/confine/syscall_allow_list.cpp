// The allow-list's entries (see syscall_allow_list.hpp for the theory).
#include "app/confine/syscall_allow_list.hpp"

#include <array>

namespace netpen::app::confine {
namespace {

using enum argument_rule;

constexpr std::string_view memory = "memory of the process (allocator, thread stacks, loaded libraries)";
constexpr std::string_view threads = "threads of the relay, the outputs and the approver; their synchronisation";
constexpr std::string_view time_and_sleep = "clocks, timers and sleeping";
constexpr std::string_view signals = "signal handling and forwarding to the tree (kill of the init's group)";
constexpr std::string_view descriptors = "reading and writing descriptors netpen holds (tap, sockets, terminal, files)";
constexpr std::string_view waiting = "the event loops (epoll, eventfd, timerfd, signalfd, poll)";
constexpr std::string_view files =
    "files: flow log, capture, --learn profile, /proc (owner lookup, tree listing), records and their removal";
constexpr std::string_view sockets = "host sockets of the tree's flows, proxies, DNS, listeners, netlink, control";
constexpr std::string_view identity =
    "who netpen is (records, peer checks, the terminal's foreground group), the per-thread euid switch (rootful)";
constexpr std::string_view processes =
    "the init's status, the tree's processes (pidfd, reading their memory, the unix guard's notifications)";
constexpr std::string_view tap_ring =
    "the tap's io_uring (net/relay/tap_ring.hpp): set up and restricted to READ and WRITE of the tap before the "
    "filter; io_uring_setup and io_uring_register stay forbidden, so no other ring can exist";
constexpr std::string_view misc = "randomness, system facts, resource use";

constexpr std::array common = {
    allowed_call{"brk", none, memory},
    allowed_call{"mmap", never_write_exec, memory},
    allowed_call{"munmap", none, memory},
    allowed_call{"mremap", none, memory},
    allowed_call{"mprotect", never_write_exec, memory},
    allowed_call{"pkey_mprotect", never_write_exec, memory},
    allowed_call{"madvise", none, memory},
    allowed_call{"membarrier", none, memory},

    allowed_call{"clone", threads_only, threads},
    allowed_call{"clone3", answer_enosys, threads},
    allowed_call{"futex", none, threads},
    allowed_call{"set_robust_list", none, threads},
    allowed_call{"rseq", none, threads},
    allowed_call{"gettid", none, threads},
    allowed_call{"sched_yield", none, threads},
    allowed_call{"sched_getaffinity", none, threads},
    allowed_call{"exit", none, threads},
    allowed_call{"exit_group", none, threads},
    allowed_call{"prctl", harmless_prctl, threads},

    allowed_call{"clock_gettime", none, time_and_sleep},
    allowed_call{"clock_getres", none, time_and_sleep},
    allowed_call{"gettimeofday", none, time_and_sleep},
    allowed_call{"time", none, time_and_sleep},
    allowed_call{"nanosleep", none, time_and_sleep},
    allowed_call{"clock_nanosleep", none, time_and_sleep},

    allowed_call{"rt_sigaction", not_sigsys, signals},
    allowed_call{"rt_sigprocmask", none, signals},
    allowed_call{"rt_sigreturn", none, signals},
    allowed_call{"rt_sigtimedwait", none, signals},
    allowed_call{"sigaltstack", none, signals},
    allowed_call{"restart_syscall", none, signals},
    allowed_call{"kill", none, signals},
    allowed_call{"tgkill", none, signals},

    allowed_call{"read", none, descriptors},
    allowed_call{"write", none, descriptors},
    allowed_call{"readv", none, descriptors},
    allowed_call{"writev", none, descriptors},
    allowed_call{"pread64", none, descriptors},
    allowed_call{"pwrite64", none, descriptors},
    allowed_call{"lseek", none, descriptors},
    allowed_call{"close", none, descriptors},
    allowed_call{"dup", none, descriptors},
    allowed_call{"dup2", none, descriptors},
    allowed_call{"dup3", none, descriptors},
    allowed_call{"fcntl", none, descriptors},
    allowed_call{"ioctl", no_terminal_inject, descriptors},
    allowed_call{"pipe2", none, descriptors},
    allowed_call{"fsync", none, descriptors},
    allowed_call{"fdatasync", none, descriptors},
    allowed_call{"ftruncate", none, descriptors},

    allowed_call{"epoll_create1", none, waiting},
    allowed_call{"epoll_ctl", none, waiting},
    allowed_call{"epoll_wait", none, waiting},
    allowed_call{"epoll_pwait", none, waiting},
    allowed_call{"epoll_pwait2", none, waiting},
    allowed_call{"eventfd2", none, waiting},
    allowed_call{"timerfd_create", none, waiting},
    allowed_call{"timerfd_settime", none, waiting},
    allowed_call{"timerfd_gettime", none, waiting},
    allowed_call{"signalfd4", none, waiting},
    allowed_call{"poll", none, waiting},
    allowed_call{"ppoll", none, waiting},
    allowed_call{"pselect6", none, waiting},
    allowed_call{"io_uring_enter", none, tap_ring},

    allowed_call{"openat", none, files},
    allowed_call{"openat2", none, files},
    allowed_call{"open", none, files},
    allowed_call{"fstat", none, files},
    allowed_call{"newfstatat", none, files},
    allowed_call{"statx", none, files},
    allowed_call{"stat", none, files},
    allowed_call{"lstat", none, files},
    allowed_call{"statfs", none, files},
    allowed_call{"fstatfs", none, files},
    allowed_call{"access", none, files},
    allowed_call{"faccessat", none, files},
    allowed_call{"faccessat2", none, files},
    allowed_call{"getdents64", none, files},
    allowed_call{"readlink", none, files},
    allowed_call{"readlinkat", none, files},
    allowed_call{"getcwd", none, files},
    allowed_call{"unlink", none, files},
    allowed_call{"unlinkat", none, files},
    allowed_call{"rmdir", none, files},
    allowed_call{"mkdir", none, files},
    allowed_call{"mkdirat", none, files},
    allowed_call{"rename", none, files},
    allowed_call{"renameat", none, files},
    allowed_call{"renameat2", none, files},
    allowed_call{"fchmod", none, files},
    allowed_call{"fchmodat", none, files},
    allowed_call{"chmod", none, files},
    allowed_call{"fchown", none, files},
    allowed_call{"fchownat", none, files},
    allowed_call{"umask", none, files},
    allowed_call{"flock", none, files},

    allowed_call{"socket", socket_families, sockets},
    allowed_call{"socketpair", unix_only, sockets},
    allowed_call{"bind", none, sockets},
    allowed_call{"listen", none, sockets},
    allowed_call{"accept", none, sockets},
    allowed_call{"accept4", none, sockets},
    allowed_call{"connect", none, sockets},
    allowed_call{"shutdown", none, sockets},
    allowed_call{"getsockname", none, sockets},
    allowed_call{"getpeername", none, sockets},
    allowed_call{"getsockopt", none, sockets},
    allowed_call{"setsockopt", none, sockets},
    allowed_call{"sendto", none, sockets},
    allowed_call{"recvfrom", none, sockets},
    allowed_call{"sendmsg", none, sockets},
    allowed_call{"recvmsg", none, sockets},
    allowed_call{"sendmmsg", none, sockets},
    allowed_call{"recvmmsg", none, sockets},

    allowed_call{"getpid", none, identity},
    allowed_call{"getppid", none, identity},
    allowed_call{"getpgrp", none, identity},
    allowed_call{"getpgid", none, identity},
    allowed_call{"getsid", none, identity},
    allowed_call{"getuid", none, identity},
    allowed_call{"geteuid", none, identity},
    allowed_call{"getgid", none, identity},
    allowed_call{"getegid", none, identity},
    allowed_call{"getresuid", none, identity},
    allowed_call{"getresgid", none, identity},
    allowed_call{"getgroups", none, identity},
    allowed_call{"setresuid", none, identity},
    allowed_call{"setresgid", none, identity},
    allowed_call{"setgroups", none, identity},  // the Unix-socket guard acts as the tree's user (rootful)
    allowed_call{"capget", none, identity},

    allowed_call{"wait4", none, processes},
    allowed_call{"waitid", none, processes},
    allowed_call{"pidfd_open", none, processes},
    allowed_call{"pidfd_getfd", none, processes},
    allowed_call{"pidfd_send_signal", none, processes},
    allowed_call{"process_vm_readv", none, processes},
    allowed_call{"seccomp", seccomp_queries, processes},

    allowed_call{"getrandom", none, misc},
    allowed_call{"uname", none, misc},
    allowed_call{"sysinfo", none, misc},
    allowed_call{"getrlimit", none, misc},
    allowed_call{"prlimit64", read_only_limits, misc},
    allowed_call{"getrusage", none, misc},
};

constexpr std::array<std::string_view, 42> forbidden = {
    "execve",        "execveat",       "fork",          "vfork",          "ptrace",
    "process_vm_writev", "mount",      "umount2",       "pivot_root",     "chroot",
    "unshare",       "fsopen",         "fsmount",       "fsconfig",       "fspick",
    "move_mount",    "open_tree",      "mount_setattr", "bpf",            "perf_event_open",
    "userfaultfd",   "io_uring_setup", "io_uring_register", "keyctl",
    "add_key",       "request_key",    "kexec_load",    "kexec_file_load", "init_module",
    "finit_module",  "delete_module",  "personality",   "iopl",           "ioperm",
    "swapon",        "swapoff",        "reboot",        "acct",           "settimeofday",
    "clock_settime", "open_by_handle_at", "kcmp",
};

}  // namespace

std::vector<allowed_call> allow_list(const confinement_needs& needs) {
  std::vector<allowed_call> out(common.begin(), common.end());
  if (needs.tree_namespace_sockets)
    out.push_back({"setns", network_namespace, "--root --publish: a socket in the tree's network namespace"});
  return out;
}

std::span<const std::string_view> forbidden_calls() { return forbidden; }

std::string_view describe(argument_rule rule) {
  switch (rule) {
    case none: return "";
    case threads_only: return "CLONE_THREAD only";
    case socket_families: return "unix, inet, inet6, netlink route/netfilter/sock_diag";
    case unix_only: return "AF_UNIX only";
    case never_write_exec: return "never PROT_WRITE|PROT_EXEC";
    case not_sigsys: return "not SIGSYS";
    case no_terminal_inject: return "not TIOCSTI, TIOCLINUX";
    case read_only_limits: return "read only";
    case harmless_prctl: return "reading and naming options only";
    case seccomp_queries: return "queries only";
    case network_namespace: return "CLONE_NEWNET only";
    case answer_enosys: return "refused with ENOSYS";
  }
  return "";
}

}  // namespace netpen::app::confine
