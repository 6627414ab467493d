// sock_diag's view of the sandbox's bound Unix sockets (see unix_guard_bound.hpp).
#include "backends/common/unix_guard_bound.hpp"

#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

namespace netpen::backends::unix_guard {
namespace {

// NLA_ALIGN/NLA_HDRLEN without the header's int arithmetic.
constexpr std::size_t nla_align(std::size_t n) { return (n + 3) & ~std::size_t{3}; }
constexpr std::size_t nla_header = nla_align(sizeof(nlattr));

void add_vfs(const unix_diag_msg* msg, std::size_t len, bound_set& out) {
  const auto* attr = reinterpret_cast<const nlattr*>(reinterpret_cast<const char*>(msg) + NLMSG_ALIGN(sizeof *msg));
  std::size_t left = len > NLMSG_ALIGN(sizeof *msg) ? len - NLMSG_ALIGN(sizeof *msg) : 0;
  while (left >= sizeof(nlattr) && attr->nla_len >= sizeof(nlattr) && attr->nla_len <= left) {
    if ((attr->nla_type & NLA_TYPE_MASK) == UNIX_DIAG_VFS && attr->nla_len >= nla_header + sizeof(unix_diag_vfs)) {
      unix_diag_vfs vfs{};
      std::memcpy(&vfs, reinterpret_cast<const char*>(attr) + nla_header, sizeof vfs);
      out.emplace(kernel_dev_to_user(vfs.udiag_vfs_dev), static_cast<ino_t>(vfs.udiag_vfs_ino));
    }
    const std::size_t step = nla_align(attr->nla_len);
    if (step >= left) break;
    left -= step;
    attr = reinterpret_cast<const nlattr*>(reinterpret_cast<const char*>(attr) + step);
  }
}

}  // namespace

bool parse_diag_replies(std::span<const std::byte> bytes, bound_set& out, int& error) {
  std::size_t off = 0;
  while (off + sizeof(nlmsghdr) <= bytes.size()) {
    nlmsghdr h{};
    std::memcpy(&h, bytes.data() + off, sizeof h);
    if (h.nlmsg_len < sizeof h || off + h.nlmsg_len > bytes.size()) return false;
    if (h.nlmsg_type == NLMSG_DONE) return false;
    if (h.nlmsg_type == NLMSG_ERROR) {
      nlmsgerr e{};
      if (h.nlmsg_len >= NLMSG_LENGTH(sizeof e)) std::memcpy(&e, bytes.data() + off + NLMSG_HDRLEN, sizeof e);
      error = e.error != 0 ? -e.error : EPROTO;
      return false;
    }
    if (h.nlmsg_type == SOCK_DIAG_BY_FAMILY && h.nlmsg_len >= NLMSG_LENGTH(sizeof(unix_diag_msg))) {
      std::vector<std::byte> copy(bytes.begin() + static_cast<std::ptrdiff_t>(off + NLMSG_HDRLEN),
                                  bytes.begin() + static_cast<std::ptrdiff_t>(off + h.nlmsg_len));
      add_vfs(reinterpret_cast<const unix_diag_msg*>(copy.data()), copy.size(), out);
    }
    off += NLMSG_ALIGN(h.nlmsg_len);
  }
  return true;
}

result<bound_set> bound_sockets(int diag_fd) {
  struct {
    nlmsghdr h;
    unix_diag_req r;
  } req{};
  req.h.nlmsg_len = sizeof req;
  req.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.r.sdiag_family = AF_UNIX;
  req.r.udiag_states = ~0U;
  req.r.udiag_show = UDIAG_SHOW_VFS;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(diag_fd, &req, sizeof req, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0)
    return fail("unix-guard", fmt::format("sock_diag request: {}", std::strerror(errno)));
  bound_set out;
  std::vector<std::byte> buf(64 * 1024);
  int error = 0;
  for (int rounds = 0; rounds < 4096; ++rounds) {  // bounded: a namespace with a million sockets is refused
    const ssize_t n = ::recv(diag_fd, buf.data(), buf.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail("unix-guard", fmt::format("sock_diag reply: {}", std::strerror(n < 0 ? errno : EPROTO)));
    if (!parse_diag_replies(std::span(buf.data(), static_cast<std::size_t>(n)), out, error)) {
      if (error != 0) return fail("unix-guard", fmt::format("sock_diag: {}", std::strerror(error)));
      return out;
    }
  }
  return fail("unix-guard", "sock_diag: too many sockets");
}

}  // namespace netpen::backends::unix_guard
