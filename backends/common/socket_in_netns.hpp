// A socket made inside another network namespace, for a connection from
// outside into it (--publish's fallback to the sandbox's loopback). The
// socket keeps its namespace for its whole life, whoever uses it.
#pragma once

namespace netpen::backends {

// A new socket of `family` and `type` (SOCK_STREAM or SOCK_DGRAM; SOCK_CLOEXEC) in the network
// namespace `netns_fd`, made on a short-lived thread that setns()es there
// (the caller's threads keep their namespace); -1 on failure (errno set).
// Needs CAP_SYS_ADMIN over that namespace (the rootful backend).
int socket_in_netns(int netns_fd, int family, int type);

}  // namespace netpen::backends
