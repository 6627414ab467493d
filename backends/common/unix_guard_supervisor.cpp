// The Unix-socket guard's thread (see unix_guard_supervisor.hpp).
#include "backends/common/unix_guard_supervisor.hpp"

#include <linux/seccomp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "backends/common/unix_guard_calls.hpp"
#include "net/common/log.hpp"

namespace netpen::backends {

unix_guard_supervisor::unix_guard_supervisor(unix_guard_fds fds, std::vector<std::string> allow,
                                             refusal_sink on_refusal)
    : fds_(std::move(fds)),
      allow_(std::move(allow)),
      on_refusal_(std::move(on_refusal)),
      wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

unix_guard_supervisor::~unix_guard_supervisor() { stop(); }

void unix_guard_supervisor::start() {
  if (thread_.joinable() || !fds_) return;
  thread_ = std::thread([this] { run(); });
}

void unix_guard_supervisor::stop() {
  if (!thread_.joinable()) return;
  const std::uint64_t one = 1;
  if (::write(wake_.get(), &one, sizeof one) < 0) {
  }
  thread_.join();
}

void unix_guard_supervisor::run() {
  seccomp_notif_sizes sizes{};
  if (::syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0) {
    sizes.seccomp_notif = sizeof(seccomp_notif);
    sizes.seccomp_notif_resp = sizeof(seccomp_notif_resp);
  }
  // The kernel's structures may be larger than ours: buffers of its size.
  std::vector<std::byte> req_buf(std::max<std::size_t>(sizes.seccomp_notif, sizeof(seccomp_notif)));
  std::vector<std::byte> resp_buf(std::max<std::size_t>(sizes.seccomp_notif_resp, sizeof(seccomp_notif_resp)));
  auto* req = reinterpret_cast<seccomp_notif*>(req_buf.data());
  auto* resp = reinterpret_cast<seccomp_notif_resp*>(resp_buf.data());
  const unix_guard::call_context ctx{fds_.listener.get(), fds_.diag.get(), &allow_, &on_refusal_};
  for (;;) {
    pollfd p[2] = {{fds_.listener.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      log::warn("unix guard: poll: {}", std::strerror(errno));
      return;
    }
    if (p[1].revents != 0) return;
    if ((p[0].revents & POLLIN) == 0) {
      if ((p[0].revents & (POLLHUP | POLLERR | POLLNVAL)) != 0) return;  // no process of the tree is left
      continue;
    }
    std::fill(req_buf.begin(), req_buf.end(), std::byte{0});
    if (::ioctl(fds_.listener.get(), SECCOMP_IOCTL_NOTIF_RECV, req) != 0) continue;  // ENOENT: the caller died
    std::fill(resp_buf.begin(), resp_buf.end(), std::byte{0});
    if (!unix_guard::answer(ctx, *req, *resp)) continue;
    if (resp->error == -EACCES) refused_.fetch_add(1);
    (void)::ioctl(fds_.listener.get(), SECCOMP_IOCTL_NOTIF_SEND, resp);  // ENOENT: it died meanwhile
  }
}

}  // namespace netpen::backends
