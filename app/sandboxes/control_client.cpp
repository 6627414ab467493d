// Connecting to a sandbox's daemon (see control_client.hpp).
#include "app/sandboxes/control_client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "backends/common/fd_passing.hpp"

namespace netpen::app::sandboxes {

result<backends::unique_fd> connect_to(const sandbox_dir& dir) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string path = dir.socket().string();
  if (path.size() >= sizeof addr.sun_path) return fail("dead", "the control socket path is too long");
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  backends::unique_fd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!fd) return fail("dead", std::strerror(errno));
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return fd;
  const int e = errno;
  if (e == EACCES || e == EPERM)
    return fail("denied", fmt::format("you may not enter sandbox '{}' (it is another user's)", dir.name));
  return fail("dead", fmt::format("sandbox '{}' is dead (its daemon is gone); remove it with 'netpen destroy {}' or "
                                  "'netpen cleanup'",
                                  dir.name, dir.name));
}

result<connected> connect_by_name(const std::string& name) {
  auto dir = find(name);
  if (!dir) return fail("unknown", fmt::format("no sandbox named '{}'", name));
  auto fd = connect_to(*dir);
  if (!fd) return unexpected<error>(fd.error());
  return connected{std::move(*dir), std::move(*fd)};
}

result<std::string> ask(int fd, std::string_view request, int timeout_ms) {
  if (auto sent = backends::send_message(fd, request); !sent) return unexpected<error>(sent.error());
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return fail("timeout", "the sandbox's daemon did not answer");
  auto m = backends::receive_message(fd);
  if (!m) return unexpected<error>(m.error());
  return std::move(m->payload);
}

}  // namespace netpen::app::sandboxes
