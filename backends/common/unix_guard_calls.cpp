// The guard's answer to one trapped call (see unix_guard_calls.hpp).
#include "backends/common/unix_guard_calls.hpp"

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <fcntl.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <cstring>
#include <optional>

#include "backends/common/unix_guard_access.hpp"
#include "backends/common/unix_guard_bound.hpp"

namespace netpen::backends::unix_guard {
namespace {

constexpr std::size_t max_payload = 256 * 1024;  // a larger emulated datagram: EMSGSIZE
constexpr std::size_t max_iov = 1024;            // UIO_MAXIOV
constexpr std::size_t max_mmsg = 1024;

int socket_option(int fd, int option) {
  int v = 0;
  socklen_t len = sizeof v;
  return ::getsockopt(fd, SOL_SOCKET, option, &v, &len) == 0 ? v : -errno;
}

int result_of(long r) { return r < 0 ? -errno : static_cast<int>(r); }

constexpr unsigned pidfd_thread = O_EXCL;  // PIDFD_THREAD

// The process a thread belongs to (Tgid: of /proc/TID/status), or tid itself.
pid_t thread_group_of(pid_t tid) {
  std::ifstream in("/proc/" + std::to_string(tid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.starts_with("Tgid:")) return static_cast<pid_t>(std::strtol(line.c_str() + 5, nullptr, 10));
  return tid;
}

// One trapped call in progress.
class call {
 public:
  call(const call_context& ctx, const seccomp_notif& req) : ctx_(ctx), req_(req), pid_(static_cast<pid_t>(req.pid)) {}

  // std::nullopt: continue the call; else its result (>= 0) or -errno.
  std::optional<long> run();
  bool still_valid() const {
    std::uint64_t id = req_.id;
    return ::ioctl(ctx_.listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
  }
  bool gone() const { return gone_; }

 private:
  std::optional<long> connect_call();
  std::optional<long> sendto_call();
  std::optional<long> sendmsg_call();
  std::optional<long> sendmmsg_call();
  // The destination sockaddr_un for a pathname, after the verdict: the
  // magic link to the checked inode, or an error (-EACCES, ...).
  std::optional<long> judge_path(const std::string& path, const char* what, sockaddr_un& to, unique_fd& opened);
  std::optional<std::vector<std::byte>> read_address(std::uint64_t ptr, std::uint64_t len, long& error);
  std::optional<std::vector<std::byte>> gather(const msghdr_fields& m, long& error);
  long send_datagram(const std::vector<std::byte>& data, int flags, const std::vector<std::byte>* address,
                     const std::string* path, const char* what);

  const call_context& ctx_;
  const seccomp_notif& req_;
  pid_t pid_;
  unique_fd sock_;
  bool gone_ = false;
};

std::optional<long> call::run() {
  // req.pid is the trapped thread's id: a thread pidfd (PIDFD_THREAD, Linux
  // 6.9) reaches the fd table that thread uses; older kernels: the process.
  unique_fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid_, pidfd_thread)));
  if (pidfd.get() < 0) pidfd.reset(static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0U)));
  if (pidfd.get() < 0) pidfd.reset(static_cast<int>(::syscall(SYS_pidfd_open, thread_group_of(pid_), 0U)));
  if (pidfd.get() < 0) return -ESRCH;
  const int copied = copy_fd(pidfd.get(), static_cast<int>(req_.data.args[0]));
  if (copied < 0) return copied;  // EBADF as the kernel would say: never continue on a failed look
  sock_.reset(copied);
  const int domain = socket_option(sock_.get(), SO_DOMAIN);
  if (domain < 0) return domain;  // ENOTSOCK
  if (domain != AF_UNIX) return std::nullopt;
  const int nr = req_.data.nr;
  if (nr == SYS_connect) return connect_call();
  // Stream and seqpacket Unix sockets never send to an address of the call.
  if (socket_option(sock_.get(), SO_TYPE) != SOCK_DGRAM) return std::nullopt;
  if (nr == SYS_sendto) return sendto_call();
  if (nr == SYS_sendmsg) return sendmsg_call();
  if (nr == SYS_sendmmsg) return sendmmsg_call();
  return -ENOSYS;
}

std::optional<std::vector<std::byte>> call::read_address(std::uint64_t ptr, std::uint64_t len, long& error) {
  if (len > sizeof(sockaddr_un) || len < sizeof(sa_family_t)) {
    error = -EINVAL;
    return std::nullopt;
  }
  auto bytes = read_memory(pid_, ptr, static_cast<std::size_t>(len));
  if (!bytes) error = -EFAULT;
  return bytes;
}

std::optional<long> call::judge_path(const std::string& path, const char* what, sockaddr_un& to, unique_fd& opened) {
  const int fd = open_in_tree(pid_, path);
  if (fd < 0) return fd == -ENOENT || fd == -ENOTDIR || fd == -EACCES ? fd : -EACCES;
  opened.reset(fd);
  const resolved_socket s = describe(fd);
  bound_set bound;
  if (s.is_socket)
    if (auto b = bound_sockets(ctx_.diag)) bound = std::move(*b);  // unknown: only --allow-unix can allow
  const verdict v = judge(s, resolve_allow_entries(*ctx_.allow), bound);
  if (v == verdict::not_a_socket) return -ECONNREFUSED;
  if (v == verdict::refused) {
    if (*ctx_.on_refusal) (*ctx_.on_refusal)(unix_refusal{process_of(pid_), path, what});
    return -EACCES;
  }
  to = sockaddr_un{};
  to.sun_family = AF_UNIX;
  const std::string link = "/proc/self/fd/" + std::to_string(fd);
  std::memcpy(to.sun_path, link.c_str(), link.size() + 1);
  return std::nullopt;
}

std::optional<long> call::connect_call() {
  long error = 0;
  auto address = read_address(req_.data.args[1], req_.data.args[2], error);
  if (!address) return error;
  if (!still_valid()) return gone_ = true, -ESRCH;
  const parsed_address a = parse_sockaddr(*address);
  if (a.kind != address_kind::pathname)  // abstract, unnamed: the tree's own namespace; done on the copy
    return result_of(::connect(sock_.get(), reinterpret_cast<const sockaddr*>(address->data()),
                               static_cast<socklen_t>(address->size())));
  sockaddr_un to{};
  unique_fd opened;
  if (auto refused = judge_path(a.path, "connect", to, opened)) return refused;
  borrowed_credentials as_tree(pid_);
  if (!as_tree.ok()) return -EPERM;
  return result_of(::connect(sock_.get(), reinterpret_cast<const sockaddr*>(&to), sizeof to));
}

long call::send_datagram(const std::vector<std::byte>& data, int flags, const std::vector<std::byte>* address,
                         const std::string* path, const char* what) {
  flags |= MSG_DONTWAIT;  // the guard never waits on a receiver (docs/policy.md)
  if (path == nullptr) {
    const auto* to = address != nullptr ? reinterpret_cast<const sockaddr*>(address->data()) : nullptr;
    const auto len = address != nullptr ? static_cast<socklen_t>(address->size()) : 0;
    return result_of(::sendto(sock_.get(), data.data(), data.size(), flags, to, len));
  }
  sockaddr_un to{};
  unique_fd opened;
  if (auto refused = judge_path(*path, what, to, opened)) return *refused;
  borrowed_credentials as_tree(pid_);
  if (!as_tree.ok()) return -EPERM;
  return result_of(::sendto(sock_.get(), data.data(), data.size(), flags, reinterpret_cast<const sockaddr*>(&to),
                            sizeof to));
}

std::optional<long> call::sendto_call() {
  const auto& args = req_.data.args;
  if (args[2] > max_payload) return -EMSGSIZE;
  long error = 0;
  auto address = read_address(args[4], args[5], error);
  if (!address) return error;
  auto data = read_memory(pid_, args[1], static_cast<std::size_t>(args[2]));
  if (!data) return -EFAULT;
  if (!still_valid()) return gone_ = true, -ESRCH;
  const parsed_address a = parse_sockaddr(*address);
  const int flags = static_cast<int>(args[3]);
  if (a.kind != address_kind::pathname) return send_datagram(*data, flags, &*address, nullptr, "sendto");
  return send_datagram(*data, flags, nullptr, &a.path, "sendto");
}

std::optional<std::vector<std::byte>> call::gather(const msghdr_fields& m, long& error) {
  error = -EMSGSIZE;
  if (m.iovlen > max_iov) return std::nullopt;
  error = -EFAULT;
  auto raw = read_memory(pid_, m.iov, static_cast<std::size_t>(m.iovlen) * 16);
  if (!raw) return std::nullopt;
  auto iovs = parse_iovecs(*raw, static_cast<std::size_t>(m.iovlen));
  if (!iovs) return std::nullopt;
  std::vector<std::byte> data;
  for (auto [base, len] : *iovs) {
    if (len > max_payload || data.size() + len > max_payload) return error = -EMSGSIZE, std::nullopt;
    auto part = read_memory(pid_, base, static_cast<std::size_t>(len));
    if (!part) return std::nullopt;
    data.insert(data.end(), part->begin(), part->end());
  }
  return data;
}

std::optional<long> call::sendmsg_call() {
  auto raw = read_memory(pid_, req_.data.args[1], msghdr_size);
  if (!raw) return -EFAULT;
  const auto m = parse_msghdr(*raw);
  std::optional<std::vector<std::byte>> address;
  long error = 0;
  if (m->name != 0 && m->namelen != 0 && !(address = read_address(m->name, m->namelen, error))) return error;
  const parsed_address a = address ? parse_sockaddr(*address) : parsed_address{};
  const int flags = static_cast<int>(req_.data.args[2]);
  if (m->controllen != 0) {  // ancillary data (fds, credentials) is not emulated
    if (a.kind != address_kind::pathname) return std::nullopt;  // limit: see the header
    sockaddr_un to{};
    unique_fd opened;
    if (auto refused = judge_path(a.path, "sendmsg", to, opened)) return refused;
    return -EPERM;
  }
  auto data = gather(*m, error);
  if (!data) return error;
  if (!still_valid()) return gone_ = true, -ESRCH;
  if (a.kind == address_kind::pathname) return send_datagram(*data, flags, nullptr, &a.path, "sendmsg");
  return send_datagram(*data, flags, address ? &*address : nullptr, nullptr, "sendmsg");
}

std::optional<long> call::sendmmsg_call() {
  const std::size_t count = std::min<std::size_t>(req_.data.args[2], max_mmsg);
  auto raw = read_memory(pid_, req_.data.args[1], count * mmsghdr_size);
  if (!raw) return -EFAULT;
  bool named_path = false;
  for (std::size_t i = 0; i < count; ++i) {
    const auto m = parse_msghdr(std::span(*raw).subspan(i * mmsghdr_size, msghdr_size));
    if (m->name == 0 || m->namelen == 0) continue;
    long error = 0;
    auto address = read_address(m->name, m->namelen, error);
    if (!address) return error;
    const parsed_address a = parse_sockaddr(*address);
    if (a.kind != address_kind::pathname) continue;
    sockaddr_un to{};
    unique_fd opened;
    if (auto refused = judge_path(a.path, "sendmmsg", to, opened)) return refused;
    named_path = true;
  }
  if (named_path) return -EPERM;  // sendmmsg to a pathname is not emulated (docs/policy.md)
  return std::nullopt;            // limit: see the header
}

}  // namespace

bool answer(const call_context& ctx, const seccomp_notif& req, seccomp_notif_resp& resp) {
  call c(ctx, req);
  const auto r = c.run();
  if (c.gone()) return false;
  resp.id = req.id;
  if (!r) {
    resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    resp.val = 0;
    resp.error = 0;
  } else if (*r < 0) {
    resp.error = static_cast<int>(*r);
    resp.val = 0;
  } else {
    resp.error = 0;
    resp.val = *r;
  }
  return true;
}

}  // namespace netpen::backends::unix_guard
