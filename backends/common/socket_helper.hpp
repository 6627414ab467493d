// Sockets made inside the sandbox on request (--publish's fallback to the
// sandbox's loopback, rootless). The parent cannot setns() into a rootless
// sandbox's network namespace (it belongs to another user namespace, and
// netpen is multithreaded by then), but a socket created inside can be
// connected from outside and keeps its namespace.
//
// The sandbox init forks a small helper once its setup is done (inside
// every namespace); the helper answers each request on a dedicated
// SOCK_SEQPACKET socketpair ("tcp4", "tcp6", "udp4", "udp6") with a fresh socket
// (SCM_RIGHTS), and exits on EOF or with the init (PDEATHSIG; pid 1's exit
// ends the whole pid namespace). The parent's side serialises requests
// (relay threads call it) and bounds each answer's wait.
#pragma once
#include <mutex>

#include "backends/common/unique_fd.hpp"

namespace netpen::backends {

// The helper's loop, in the forked child of the init. Never returns.
[[noreturn]] void serve_sandbox_sockets(int channel_fd);

// The parent's end.
class socket_requester {
 public:
  socket_requester() = default;
  explicit socket_requester(unique_fd channel);
  // A new socket of `family` (AF_INET, AF_INET6) and `type` (SOCK_STREAM,
  // SOCK_DGRAM) inside the sandbox, or -1 (errno set).
  int request(int family, int type);
  bool available() const { return channel_.get() >= 0; }

 private:
  std::mutex mu_;
  unique_fd channel_;
};

}  // namespace netpen::backends
