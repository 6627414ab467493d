// The sandbox init: the process netpen clones into the new (user,) net, mount
// and pid namespaces, and the code it runs there as pid 1 (netpen's side,
// which starts and drives it, is init_driver.hpp). Lifecycle:
//   1. arms PR_SET_PDEATHSIG=SIGKILL, waits for the parent's "maps written"
//      (rootless: the id maps; rootful: the network is configured);
//      EOF on the control socket (netpen died) ends it at once;
//   2. runs the setup (child_setup), opens the --host-port listeners at
//      127.0.0.1 and [::1] in the new network namespace and sends them
//      ("listeners", in batches), with spec.least_privilege empties what any
//      command it starts could hold (privilege_drop.hpp), then sends the
//      parent "ok"+tap fd; or an error naming the failed step, and then
//      exits without running anything;
//   3. waits for "run" (launch()); with spec.unix_guard installs the
//      Unix-socket guard's seccomp filter and hands its fds over
//      (unix_guard_filter.hpp; it still holds CAP_SYS_ADMIN in its user
//      namespace, so no no_new_privs is needed); forks the command into its own process
//      group (the terminal's foreground group when netpen had the terminal)
//      and execs it; with a socket helper channel, then forks the helper
//      (socket_helper.hpp);
//   4. reaps every process (orphans reparent to it), forwards INT, TERM, HUP,
//      QUIT, USR1, USR2 and WINCH to the command, and when the command ends
//      sends "exiting <status>" and exits with that status (128+N for
//      signal N); pid 1 exiting makes the kernel kill whatever is left in
//      the namespace. The parent tears its side down as soon as it reads
//      the status, while the kernel ends the namespaces, and reaps the init
//      before it exits itself. With --wait-all
//      (spec.wait_all) it exits with that status only when no process but
//      the socket helper is left; INT, TERM, HUP or QUIT then end it at once.
//   (A persistent sandbox, spec.persistent, runs no command at 3: it serves
//   spawn requests until told to stop, init_spawner.hpp.)
//   5. job control: when the command is stopped (Ctrl-Z) the init tells the
//      parent ("stopped"), which takes the terminal back and stops itself so
//      the user's shell regains control; on SIGCONT (the shell's `fg` reaches
//      netpen's process group, the init included) the init gives the terminal
//      back to the command's group and continues it.
#pragma once
#include <signal.h>

#include <optional>
#include <string>
#include <string_view>

#include "backends/common/unique_fd.hpp"
#include "backends/sandbox.hpp"

namespace netpen::backends {

// The backend's setup inside the new namespaces (phase 1): returns the fd to
// hand to the parent with "ok" (the tap), or an empty one when there is none.
using init_setup = result<unique_fd> (*)(const sandbox_spec& spec);

struct init_config {
  const sandbox_spec* spec = nullptr;
  init_setup setup = nullptr;
  int control_fd = -1;     // the child's end of the control socketpair
  int tty_fd = -1;         // terminal to hand to the command, or -1
  int socket_helper_fd = -1;  // the socket helper's end (socket_helper.hpp), or -1: none
  sigset_t command_mask{};  // signal mask the command starts with
};

// Control-channel payloads.
inline constexpr std::string_view msg_maps_ready = "maps";
inline constexpr std::string_view msg_setup_ok = "ok";
inline constexpr std::string_view msg_listeners = "listeners";      // --host-port sockets, before "ok"
inline constexpr std::string_view msg_run = "run";
inline constexpr std::string_view msg_stopped = "stopped";            // Ctrl-Z, SIGSTOP
inline constexpr std::string_view msg_stopped_tty = "stopped-tty";    // SIGTTIN/SIGTTOU: the terminal was not its
inline constexpr std::string_view msg_exiting = "exiting";            // "exiting <status>": the tree ended
inline constexpr char msg_error_tag = 'E';      // "E<code>\x1f<message>"
inline constexpr char msg_error_separator = '\x1f';

// The init's last message, sent just before it exits with `status` (the
// command's shell status): the parent then knows the status and tears its
// side down while the kernel ends the init's namespaces; it still reaps the
// init before it exits itself.
std::string exiting_message(int status);
// The status of an "exiting" message, or nullopt for any other payload.
std::optional<int> parse_exiting_message(std::string_view payload);

[[noreturn]] void run_sandbox_init(const init_config& cfg);

// Exit status for a failed exec (127 not found, 126 otherwise).
int exec_failure_status(int err);

}  // namespace netpen::backends
