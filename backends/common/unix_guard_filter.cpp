// The Unix-socket guard's filter (see unix_guard_filter.hpp).
#include "backends/common/unix_guard_filter.hpp"

#include <linux/netlink.h>
#include <seccomp.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "backends/common/fd_passing.hpp"
#include "backends/common/sandbox_init.hpp"

namespace netpen::backends {
namespace {

struct filter_ctx {
  scmp_filter_ctx ctx = ::seccomp_init(SCMP_ACT_ALLOW);
  ~filter_ctx() {
    if (ctx != nullptr) ::seccomp_release(ctx);
  }
};

result<void> step(int rc, std::string_view what) {
  if (rc == 0) return {};
  return fail("unix-guard", fmt::format("cannot install the Unix-socket guard ({}): {}", what, std::strerror(-rc)));
}

// Native rules: notify for the calls that can name a destination.
result<void> add_native_rules(scmp_filter_ctx ctx) {
  for (int call : {SCMP_SYS(connect), SCMP_SYS(sendmsg), SCMP_SYS(sendmmsg)})
    if (auto r = step(::seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, call, 0), "connect/sendmsg rule"); !r) return r;
  if (auto r = step(::seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(sendto), 1, SCMP_A4_64(SCMP_CMP_NE, 0)),
                    "sendto rule");
      !r)
    return r;
  return step(::seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(io_uring_setup), 0), "io_uring rule");
}

// The other x86 ABIs, in a filter of their own (libseccomp adds a rule to
// every ABI of its filter) merged into the native one: refused outright.
// On i386, libseccomp also matches socketcall(SYS_CONNECT, ...) for connect.
result<void> add_foreign_abi_rules(scmp_filter_ctx native) {
  scmp_filter_ctx foreign = ::seccomp_init(SCMP_ACT_ALLOW);
  if (foreign == nullptr) return fail("unix-guard", "cannot install the Unix-socket guard: seccomp_init failed");
  auto r = step(::seccomp_attr_set(foreign, SCMP_FLTATR_CTL_NNP, 0), "no_new_privs off");
  if (r) r = step(::seccomp_arch_remove(foreign, SCMP_ARCH_NATIVE), "arch");
  if (r) r = step(::seccomp_arch_add(foreign, SCMP_ARCH_X86), "i386 ABI");
  if (r) r = step(::seccomp_arch_add(foreign, SCMP_ARCH_X32), "x32 ABI");
  for (const char* name : {"connect", "sendto", "sendmsg", "sendmmsg", "io_uring_setup", "socketcall"}) {
    if (!r) break;
    const int nr = ::seccomp_syscall_resolve_name(name);
    const int rc = ::seccomp_rule_add(foreign, SCMP_ACT_ERRNO(EPERM), nr, 0);
    if (rc != 0 && rc != -EEXIST) r = step(rc, name);
  }
  if (!r) {
    ::seccomp_release(foreign);
    return r;
  }
  return step(::seccomp_merge(native, foreign), "merge");  // takes `foreign` over on success
}

}  // namespace

result<unix_guard_fd_numbers> install_unix_guard(int control_fd) {
  const int diag = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (diag < 0)
    return fail("unix-guard", fmt::format("cannot open a sock_diag socket for the Unix-socket guard: {}",
                                          std::strerror(errno)));
  filter_ctx f;
  if (f.ctx == nullptr) return fail("unix-guard", "cannot install the Unix-socket guard: seccomp_init failed");
  if (auto r = step(::seccomp_attr_set(f.ctx, SCMP_FLTATR_CTL_NNP, 0), "no_new_privs off"); !r) return unexpected(r.error());
  if (auto r = add_native_rules(f.ctx); !r) return unexpected(r.error());
  if (auto r = add_foreign_abi_rules(f.ctx); !r) return unexpected(r.error());
  if (auto r = step(::seccomp_load(f.ctx), "load"); !r) return unexpected(r.error());
  const int listener = ::seccomp_notify_fd(f.ctx);
  if (listener < 0) return fail("unix-guard", "cannot install the Unix-socket guard: no notification fd");
  ::fcntl(listener, F_SETFD, FD_CLOEXEC);
  const std::string text = fmt::format("{} {} {}", msg_unix_guard, listener, diag);
  if (::write(control_fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    return fail("unix-guard", fmt::format("cannot hand the Unix-socket guard over: {}", std::strerror(errno)));
  return unix_guard_fd_numbers{listener, diag};  // open until netpen copied them (pidfd_getfd)
}

void start_unix_guard(int control_fd) {
  auto fds = install_unix_guard(control_fd);
  if (!fds) {
    // write(2), not sendmsg: a filter may be in place already.
    std::string text;
    text += msg_error_tag;
    text += fds.error().code;
    text += msg_error_separator;
    text += fds.error().message;
    if (::write(control_fd, text.data(), text.size()) < 0) {
    }
    ::_exit(125);
  }
  auto taken = receive_message(control_fd);
  if (!taken || taken->payload != msg_unix_guard_taken) ::_exit(125);
  ::close(fds->listener);
  ::close(fds->diag);
}

std::optional<unix_guard_fd_numbers> parse_unix_guard_message(std::string_view payload) {
  if (!payload.starts_with(msg_unix_guard)) return std::nullopt;
  payload.remove_prefix(msg_unix_guard.size());
  unix_guard_fd_numbers out;
  for (int* v : {&out.listener, &out.diag}) {
    if (!payload.starts_with(' ')) return std::nullopt;
    payload.remove_prefix(1);
    auto [end, ec] = std::from_chars(payload.data(), payload.data() + payload.size(), *v);
    if (ec != std::errc{} || *v < 0) return std::nullopt;
    payload.remove_prefix(static_cast<std::size_t>(end - payload.data()));
  }
  if (!payload.empty()) return std::nullopt;
  return out;
}

}  // namespace netpen::backends
