// The interface every backend implements: set up an isolated network for a
// command tree, hand the engine its end of the link, run the command, and
// tear everything down (in reverse) whatever happens. Setup is two-phased so
// the relay engine is running before the command sends its first packet.
#pragma once
#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backends/common/unique_fd.hpp"
#include "backends/common/unix_guard_supervisor.hpp"
#include "net/common/error.hpp"
#include "net/relay/host_port_set.hpp"

namespace netpen::backends {

// Who the command runs as when the backend starts as root (rootful, not
// --run-as-root): the invoking user from SUDO_UID/SUDO_GID.
struct command_identity {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups
  std::string user;           // USER and LOGNAME
  std::string home;           // HOME
};

struct sandbox_spec {
  std::vector<std::string> argv;            // the command, argv[0] looked up in PATH
  std::string resolv_conf;                  // contents for the tree's /etc/resolv.conf
  std::optional<std::string> hosts;         // contents for the tree's /etc/hosts (nullopt: unchanged)
  bool keep_uid = false;                    // rootless: the invoking uid/gid inside instead of 0 (not --map-root)
  bool least_privilege = false;             // rootless, not --map-root: the tree holds no capability, the
                                            // overlays are read-only, mounts nosuid (privilege_drop.hpp)
  bool ipv4_route = true;                   // give the tree an IPv4 default route via the gateway
  bool ipv6_route = true;                   // ... and an IPv6 one (false when the host has none)
  std::optional<command_identity> identity; // drop to this user before exec (rootful)
  relay::host_port_set host_ports;          // --host-port: the init listens on these at 127.0.0.1 and [::1]
  bool socket_helper = false;               // rootless --publish: sockets made inside on request (socket_helper.hpp)
  bool persistent = false;                  // `netpen create`: no command; the init runs exec requests
  bool wait_all = false;                    // --wait-all: the run ends when the whole tree has, not the command
  bool map_host_ids = false;                // rootless as root: map every host id to itself (--exec-group)
  bool unix_guard = false;                  // --block-unix (or implied): the Unix-socket guard's filter (unix_guard_filter.hpp)
};

class sandbox {
 public:
  virtual ~sandbox() = default;

  // Waits until the sandbox's network is set up (phase 1b). Returned early
  // so netpen can start its relay engine while the sandbox configures
  // itself. On failure the sandbox is torn down and nothing ran.
  virtual result<void> wait_ready() = 0;

  // The engine's end of the link, valid after wait_ready(): for rootless,
  // the tap fd (O_NONBLOCK, IFF_TAP|IFF_NO_PI), owned by the sandbox until
  // release_link_fd().
  virtual int link_fd() const = 0;

  // Hands ownership of the link fd to the caller (the sandbox no longer
  // closes it); returns -1 if it was already released.
  virtual int release_link_fd() = 0;

  // --host-port: the listeners the sandbox opened at 127.0.0.1 and [::1] in
  // its own network namespace (valid after wait_ready(); ownership passes
  // to the caller). Empty without --host-port.
  virtual std::vector<unique_fd> take_host_port_listeners() { return {}; }

  // Lets the command run (phase 2). Before this the tree is set up but the
  // command has not been exec'd.
  virtual result<void> launch() = 0;

  // Blocks until the command tree ends; forwards INT, TERM, HUP, QUIT, USR1,
  // USR2 and WINCH received by netpen to the command meanwhile. Returns the
  // command's exit status (128+N when it died of signal N). It may return
  // once the init announced its exit, before the kernel has ended the
  // namespaces; the init is reaped when the sandbox is destroyed.
  virtual int wait() = 0;

  // pid of the sandbox init in netpen's pid namespace (for diagnostics).
  virtual pid_t init_pid() const = 0;

  // A new socket (AF_INET or AF_INET6; SOCK_STREAM or SOCK_DGRAM) inside the
  // sandbox's network namespace, for connecting from outside to its loopback
  // (--publish); -1 when the backend cannot make one. Safe from any thread
  // after wait_ready().
  virtual int socket_inside(int family, int type) = 0;
  // A persistent sandbox (spec.persistent) after launch(): the init's control
  // channel, on which it takes spawn requests (init_spawner.hpp), and its
  // pidfd (readable once it exited). -1 when not available.
  virtual int control_fd() const { return -1; }
  virtual int init_pidfd() const { return -1; }
  // spec.unix_guard, after launch(): the guard's notification and sock_diag
  // fds, for unix_guard_supervisor (ownership passes to the caller).
  virtual unix_guard_fds take_unix_guard() { return {}; }
};

// Starts a rootless sandbox (user+net+mount+pid namespaces, tap0): forks its
// init and maps its ids, then returns while the init sets up its network
// (finish with wait_ready()). Must be called before netpen starts any thread;
// threads may start as soon as it returns. On failure nothing is left behind
// and the error names the missing host feature and how to fix it.
result<std::unique_ptr<sandbox>> make_rootless_sandbox(const sandbox_spec& spec);

}  // namespace netpen::backends
