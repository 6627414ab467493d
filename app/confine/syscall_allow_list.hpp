// netpen's own seccomp allow-list, as pure data (no I/O; the install is
// self_confinement.hpp). Theory of operation:
//
// Once the sandbox is up, netpen is a relay: it reads and writes file
// descriptors it already holds (the tap or the netfilter sockets, the
// tree's control socket, the terminal), opens host sockets for the tree's
// flows, writes its logs and captures, and waits for the init. The list
// names the system calls that work needs, each with the reason it is there;
// everything else is refused by the filter's default action, which stops
// netpen and its tree and names the call (self_confinement.cpp).
//
// Forbidden on purpose (forbidden_calls(), never on the list; a unit test
// checks it): running programs (execve, execveat), new processes (fork,
// vfork; clone is allowed only with CLONE_THREAD, clone3 answers ENOSYS so
// glibc falls back to clone, whose flags the filter can read), debugging and
// writing other processes (ptrace, process_vm_writev), the file system tree
// and namespaces (mount, umount2, pivot_root, chroot, setns, unshare, the
// new mount API), the kernel's attack surface netpen never needs (bpf,
// perf_event_open, userfaultfd, io_uring_setup and io_uring_register (the
// tap's ring is set up and restricted before the filter; io_uring_enter, which
// drives it, is allowed), keyctl, add_key, request_key,
// kexec_*, *_module, personality, iopl, ioperm, swapon, swapoff, reboot).
//
// Argument rules where they are cheap and meaningful:
//   clone        only with CLONE_THREAD (threads; no new process)
//   socket       AF_UNIX, AF_INET, AF_INET6, and AF_NETLINK only for
//                NETLINK_ROUTE, NETLINK_NETFILTER and NETLINK_SOCK_DIAG (no
//                AF_PACKET: the captures' packet sockets are opened before)
//   socketpair   AF_UNIX only
//   mmap, mprotect, pkey_mprotect
//                never writable and executable at once (no code is ever
//                written and run; dlopen maps r-x segments, which stay allowed)
//   rt_sigaction never for SIGSYS: the handler that reports a refused call
//                cannot be replaced
//   ioctl        never TIOCSTI or TIOCLINUX (no typing into the terminal)
//   prlimit64    read only (no new limit)
//   seccomp      queries only (SECCOMP_GET_ACTION_AVAIL, SECCOMP_GET_NOTIF_SIZES:
//                libseccomp's user-notification helpers of the Unix-socket
//                guard ask them on first use); no new filter or mode
//   prctl        reading and naming only (PR_SET_NAME, PR_GET_NAME,
//                PR_GET_DUMPABLE, PR_GET_NO_NEW_PRIVS, PR_GET_SECCOMP,
//                PR_CAPBSET_READ, PR_SET_VMA): never PR_SET_PTRACER,
//                PR_SET_DUMPABLE, PR_SET_MM or PR_SET_SECUREBITS
//   setns        only CLONE_NEWNET, and only under --root with --publish:
//                the loopback fallback of an inbound flow makes its socket
//                in the tree's namespace from a short-lived thread
//
// The kernel reads an int argument's low 32 bits only. An "equals" rule also
// wants the upper bits zero (stricter: such a call is refused), and the
// "never this value" rules (ioctl, rt_sigaction) compare the low 32 bits
// only, so high bits cannot smuggle a refused value past them.
#pragma once

#include <span>
#include <string_view>
#include <vector>

namespace netpen::app::confine {

// What a rule checks of a call's arguments (none: any arguments).
enum class argument_rule {
  none,
  threads_only,        // clone: CLONE_THREAD set
  socket_families,     // socket: the families and netlink protocols above
  unix_only,           // socketpair: AF_UNIX
  never_write_exec,    // mmap, mprotect, pkey_mprotect: not PROT_WRITE|PROT_EXEC
  not_sigsys,          // rt_sigaction: signal != SIGSYS
  no_terminal_inject,  // ioctl: request != TIOCSTI, TIOCLINUX
  read_only_limits,    // prlimit64: new limit NULL
  harmless_prctl,      // prctl: the reading and naming options above
  seccomp_queries,     // seccomp: SECCOMP_GET_ACTION_AVAIL, SECCOMP_GET_NOTIF_SIZES
  network_namespace,   // setns: nstype CLONE_NEWNET
  answer_enosys,       // not allowed: fails with ENOSYS (clone3: glibc falls back to clone)
};

struct allowed_call {
  std::string_view name;
  argument_rule rule;
  std::string_view why;
};

// What the run needs beyond the common list.
struct confinement_needs {
  bool tree_namespace_sockets = false;  // --root with --publish: setns(CLONE_NEWNET) on a thread
};

// The allowed calls, in order of their reason; names as libseccomp knows them.
std::vector<allowed_call> allow_list(const confinement_needs& needs);

// Calls no configuration ever allows (documentation and a unit test).
std::span<const std::string_view> forbidden_calls();

// Readable text of a rule (NETPEN_DEBUG's listing).
std::string_view describe(argument_rule rule);

}  // namespace netpen::app::confine
