// netpen confines itself once the sandbox is up (the I/O half; the list is
// syscall_allow_list.hpp). install() sets no_new_privs and loads a seccomp
// filter built from the allow-list on every thread of the process at once
// (SECCOMP_FILTER_FLAG_TSYNC); threads made later inherit it. The sandbox's
// init was forked before, so the tree never inherits netpen's filter.
//
// A refused call fails closed: the filter's default action is
// SECCOMP_RET_TRAP, and the SIGSYS handler (async-signal-safe: write, kill,
// _exit only, all on the list) writes one precomputed line
//   netpen: error: self-confinement: netpen made the forbidden system call
//   NAME; netpen and its tree are stopped (run 'netpen cleanup')
// kills the tree's init (SIGKILL; the pid namespace takes every process of
// the tree with it) and ends netpen with status 159 (128 + SIGSYS).
// RET_KILL_PROCESS would be simpler but silent, and would leave the tree to
// the init's parent-death signal alone; TRAP reports first. A handler that
// cannot run (SIGSYS blocked) still ends the process: the kernel then
// delivers SIGSYS with its default action, which kills (fail closed).
//
// Sanitizer builds (ASan/UBSan, TSan) do not confine: their runtimes make
// calls the list forbids (LeakSanitizer's stop-the-world at exit clones a
// task without CLONE_THREAD and ptraces the threads) — enabled() says so.
#pragma once

#include <sys/types.h>

#include <linux/filter.h>

#include <string>
#include <vector>

#include "app/confine/syscall_allow_list.hpp"
#include "net/common/error.hpp"

namespace netpen::app::confine {

// Whether this build confines itself (false under sanitizers).
bool enabled();

// The filter to load: the program compiled at build time for these needs
// (seccomp_filters.hpp) and the list it came from (for the debug output).
// Empty in a build that does not confine (enabled() false).
struct prepared_filter {
  std::vector<allowed_call> list;
  std::vector<sock_filter> program;
};
result<prepared_filter> prepare(const confinement_needs& needs);

// Sets no_new_privs and loads the filter on every thread at once (TSYNC);
// on success the tree (its init, `tree_init`) dies with netpen when a
// refused call is made. Debug output lists the calls.
result<void> install(const prepared_filter& filter, pid_t tree_init);
// prepare() and install() in one.
result<void> install(const confinement_needs& needs, pid_t tree_init);

// Test-only (NETPEN_TEST_FORBIDDEN_SYSCALL=SECONDS, documented in
// docs/security.md): that many seconds after the call, a thread of netpen
// makes a forbidden system call (personality query, harmless if it ran) so
// the e2e test can watch netpen stop itself. Does nothing without the variable.
void test_forbidden_call_if_asked();

}  // namespace netpen::app::confine
