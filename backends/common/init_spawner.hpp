// The sandbox init's persistent mode (`netpen create`): instead of one
// command, pid 1 stays up inside the namespaces as the reaper and runs
// commands on request from the sandbox's daemon (app/sandboxes/daemon).
//
// Theory of operation. After "run" the init loops on poll() over its control
// channel and a signalfd for SIGCHLD:
//   - a spawn request (spawn_request.hpp) with the command's fds (stdin,
//     stdout, stderr; or one terminal) forks a child that starts a session
//     of its own (setsid; with a terminal it becomes the controlling one,
//     TIOCSCTTY, so a shell's job control works), takes the fds as 0-2,
//     drops to the request's identity, enters the working directory and
//     execs; the init answers "spawned <id> <pid>". The init is
//     single-threaded, so a plain fork() is safe here;
//   - "signal <id> <sig>" sends the signal to that command's process group;
//   - every child that ends is reaped; when it is a requested command the
//     init answers "exited <id> <status>" (128+N for signal N);
//   - "stop", or EOF (the daemon died), ends the init: pid 1 exiting makes
//     the kernel kill everything left in the namespace.
#pragma once
#include <signal.h>

#include <string_view>

namespace netpen::backends {

inline constexpr std::string_view msg_stop = "stop";

[[noreturn]] void serve_spawns(int control_fd, const sigset_t& command_mask);

}  // namespace netpen::backends
