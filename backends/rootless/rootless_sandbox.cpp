// Rootless backend: implements backends::sandbox with user, net, mount and
// pid namespaces and a tap device.
//
// Theory of operation (setup sequence):
//  1. preflight(): namespaces present, user namespaces allowed (sysctls,
//     AppArmor), /dev/net/tun openable; any miss is an actionable error.
//  2. The forwarded signals (INT TERM HUP QUIT USR1 USR2 WINCH) are blocked
//     in netpen's main thread now, before any thread exists, so every later
//     thread inherits the mask and only wait() sees them (signalfd).
//  3. A SOCK_SEQPACKET socketpair is the control channel. clone3() with
//     CLONE_NEWUSER|NEWNET|NEWNS|NEWPID|PIDFD creates the sandbox init: pid 1
//     of a new pid namespace, with full capabilities in its user namespace.
//  4. The parent writes the uid/gid maps (directly, else newuidmap /
//     newgidmap; uid_map.*) and sends "maps". The init arms PDEATHSIG, then
//     makes mounts private, mounts /proc, creates tap0 in its own network
//     namespace, configures lo and tap0 over rtnetlink, and applies the
//     resolv.conf / hosts overlays on private tmpfs mounts (child_setup.*).
//  5. make_rootless_sandbox returns here, so netpen can start its engine
//     meanwhile. wait_ready() then receives "ok" with the tap fd
//     (SCM_RIGHTS), or "E<code>\x1f<msg>" after which the init exits; the
//     parent reaps it and returns the error: nothing has run and nothing is
//     left (the namespaces die with it).
//  6. launch() sends "run": the init spawns the command (posix_spawn) in its own
//     process group (the terminal's foreground one when netpen had the
//     terminal), then reaps, forwards signals and reports job-control stops
//     over the control channel (sandbox_init.*).
//  7. wait() forwards netpen's signals to the init until it announces its
//     exit ("exiting <status>") or exits, gives the terminal back to
//     netpen's group and returns the status; the init is reaped when the
//     sandbox is destroyed (netpen's tear-down overlaps the namespaces' end).
// If netpen dies at any point, PDEATHSIG kills the init and the kernel kills
// everything else in its pid namespace. No file is created on the host.
#include <fcntl.h>
#include <linux/sched.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include <fmt/format.h>

#include "backends/common/fd_passing.hpp"
#include "backends/common/init_driver.hpp"
#include "backends/common/signal_relay.hpp"
#include "backends/common/terminal.hpp"
#include "backends/common/unique_fd.hpp"
#include "backends/rootless/child_setup.hpp"
#include "backends/rootless/preflight.hpp"
#include "backends/rootless/uid_map.hpp"
#include "backends/sandbox.hpp"
#include "net/common/log.hpp"

namespace netpen::backends {
namespace {

using namespace rootless;

error clone_error(int e) {
  switch (e) {
    case EPERM:
      return {"userns-denied",
              "creating the sandbox's namespaces was denied (EPERM); user namespaces are blocked here (a "
              "container's seccomp profile, an LSM, or kernel.unprivileged_userns_clone=0): allow them or "
              "run netpen where they are permitted"};
    case ENOSPC:
      return {"userns-limit",
              "the user or pid namespace limit is reached (ENOSPC); raise it with 'sudo sysctl -w "
              "user.max_user_namespaces=15000'"};
    case EUSERS:
      return {"userns-limit", "too many nested user namespaces (EUSERS)"};
    default:
      return {"clone-failed", fmt::format("creating the sandbox's namespaces failed: {}", std::strerror(e))};
  }
}

}  // namespace

result<std::unique_ptr<sandbox>> make_rootless_sandbox(const sandbox_spec& spec) {
  if (spec.argv.empty() && !spec.persistent) return fail("no-command", "no command to run in the sandbox");
  if (auto r = preflight(); !r) return unexpected(r.error());
  const init_setup setup = [](const sandbox_spec& s) -> result<unique_fd> {
    auto tap = set_up_sandbox(s);
    if (!tap) return unexpected(tap.error());
    return std::move(tap->fd);
  };
  auto init = start_init(spec, CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWPID, setup, clone_error);
  if (!init) return unexpected(init.error());
  if (auto r = write_id_maps(init->pid, spec.keep_uid, spec.map_host_ids); !r) {
    abandon(init->pid);
    return unexpected(r.error());
  }
  if (auto r = send_message(init->control.get(), msg_maps_ready); !r) {
    abandon(init->pid);
    return unexpected(r.error());
  }
  return std::make_unique<init_driver>(std::move(*init));
}

}  // namespace netpen::backends
