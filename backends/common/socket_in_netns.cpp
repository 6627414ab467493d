// See socket_in_netns.hpp.
#include "backends/common/socket_in_netns.hpp"

#include <sched.h>
#include <sys/socket.h>

#include <cerrno>
#include <thread>

namespace netpen::backends {

int socket_in_netns(int netns_fd, int family, int type) {
  int fd = -1;
  int err = 0;
  std::thread t([&] {
    if (::setns(netns_fd, CLONE_NEWNET) != 0) {
      err = errno;
      return;
    }
    fd = ::socket(family, type | SOCK_CLOEXEC, 0);
    if (fd < 0) err = errno;
  });
  t.join();
  if (fd < 0) errno = err;
  return fd;
}

}  // namespace netpen::backends
