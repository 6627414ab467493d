// Compiling the allow-list into a BPF program (see filter_compiler.hpp).
#include "app/confine/filter_compiler.hpp"

#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include <fmt/format.h>

namespace netpen::app::confine {
namespace {

struct filter_deleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using filter = std::unique_ptr<void, filter_deleter>;

int add(scmp_filter_ctx ctx, int nr, std::initializer_list<scmp_arg_cmp> conditions,
        std::uint32_t action = SCMP_ACT_ALLOW) {
  return seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned>(conditions.size()), conditions.begin());
}

// Rules allowing every value of the int argument `arg` but `refused`. The
// kernel reads such an argument's low 32 bits only, so a plain "!=" on the
// 64-bit register would let `refused | 1 << 32` through; instead the 32-bit
// space minus `refused` is covered by aligned blocks, each a masked
// comparison of the low bits (the upper ones ignored, as the kernel does).
// One comparison per argument and rule is all libseccomp takes.
int add_block(scmp_filter_ctx ctx, int nr, unsigned arg, std::uint32_t prefix, int free_bits,
              std::initializer_list<std::uint32_t> refused) {
  const std::uint64_t size = std::uint64_t{1} << free_bits;
  const bool holds_refused = std::ranges::any_of(refused, [&](std::uint32_t v) { return v >= prefix && v - prefix < size; });
  if (!holds_refused) {
    const std::uint64_t mask = 0xffffffffULL & ~(size - 1);
    return add(ctx, nr, {scmp_arg_cmp{arg, SCMP_CMP_MASKED_EQ, mask, prefix}});
  }
  if (free_bits == 0) return 0;  // the refused value itself
  const auto half = static_cast<std::uint32_t>(size / 2);
  if (const int rc = add_block(ctx, nr, arg, prefix, free_bits - 1, refused); rc != 0) return rc;
  return add_block(ctx, nr, arg, prefix + half, free_bits - 1, refused);
}

int add_all_but(scmp_filter_ctx ctx, int nr, unsigned arg, std::initializer_list<std::uint32_t> refused) {
  return add_block(ctx, nr, arg, 0, 32, refused);
}

// One entry's rules (several rules of one call are alternatives).
int add_entry(scmp_filter_ctx ctx, int nr, argument_rule rule) {
  constexpr std::uint32_t write_exec = PROT_WRITE | PROT_EXEC;
  switch (rule) {
    case argument_rule::none: return add(ctx, nr, {});
    case argument_rule::threads_only:
      return add(ctx, nr, {SCMP_A0_64(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD)});
    case argument_rule::socket_families: {
      int rc = 0;
      for (const int family : {AF_UNIX, AF_INET, AF_INET6})
        if (rc == 0) rc = add(ctx, nr, {SCMP_A0_32(SCMP_CMP_EQ, static_cast<std::uint32_t>(family))});
      for (const int protocol : {NETLINK_ROUTE, NETLINK_NETFILTER, NETLINK_SOCK_DIAG})
        if (rc == 0)
          rc = add(ctx, nr, {SCMP_A0_32(SCMP_CMP_EQ, AF_NETLINK), SCMP_A2_32(SCMP_CMP_EQ, static_cast<std::uint32_t>(protocol))});
      return rc;
    }
    case argument_rule::unix_only: return add(ctx, nr, {SCMP_A0_32(SCMP_CMP_EQ, AF_UNIX)});
    case argument_rule::never_write_exec: {
      int rc = 0;
      for (const std::uint32_t prot : {0U, static_cast<std::uint32_t>(PROT_WRITE), static_cast<std::uint32_t>(PROT_EXEC)})
        if (rc == 0) rc = add(ctx, nr, {SCMP_A2_32(SCMP_CMP_MASKED_EQ, write_exec, prot)});
      return rc;
    }
    case argument_rule::not_sigsys: return add_all_but(ctx, nr, 0, {SIGSYS});
    case argument_rule::no_terminal_inject: return add_all_but(ctx, nr, 1, {TIOCSTI, TIOCLINUX});
    case argument_rule::read_only_limits: return add(ctx, nr, {SCMP_A2_64(SCMP_CMP_EQ, 0)});
    case argument_rule::harmless_prctl: {
      int rc = 0;
      for (const int option : {PR_SET_NAME, PR_GET_NAME, PR_GET_DUMPABLE, PR_GET_NO_NEW_PRIVS, PR_GET_SECCOMP,
                               PR_CAPBSET_READ, PR_SET_VMA})
        if (rc == 0) rc = add(ctx, nr, {SCMP_A0_32(SCMP_CMP_EQ, static_cast<std::uint32_t>(option))});
      return rc;
    }
    case argument_rule::seccomp_queries: {
      int rc = add(ctx, nr, {SCMP_A0_32(SCMP_CMP_EQ, SECCOMP_GET_ACTION_AVAIL)});
      if (rc == 0) rc = add(ctx, nr, {SCMP_A0_32(SCMP_CMP_EQ, SECCOMP_GET_NOTIF_SIZES)});
      return rc;
    }
    case argument_rule::network_namespace: return add(ctx, nr, {SCMP_A1_32(SCMP_CMP_EQ, CLONE_NEWNET)});
    case argument_rule::answer_enosys: return add(ctx, nr, {}, SCMP_ACT_ERRNO(ENOSYS));
  }
  return -EINVAL;
}

result<filter> build_filter(const std::vector<allowed_call>& list) {
  filter ctx(seccomp_init(SCMP_ACT_TRAP));
  if (!ctx) return fail("confine", "self-confinement: cannot make a seccomp filter");
  // Only the program is taken from libseccomp (no_new_privs and TSYNC are
  // netpen's own when it loads it, self_confinement.cpp).
  if (seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_TRAP) != 0)
    return fail("confine", "self-confinement: libseccomp refused the filter's attributes");
  for (const auto& call : list) {
    const std::string name(call.name);
    const int nr = seccomp_syscall_resolve_name(name.c_str());
    if (nr == __NR_SCMP_ERROR) return fail("confine", fmt::format("self-confinement: unknown system call {}", name));
    if (const int rc = add_entry(ctx.get(), nr, call.rule); rc != 0)
      return fail("confine", fmt::format("self-confinement: cannot add {}: {}", name, std::strerror(-rc)));
  }
  return ctx;
}

// libseccomp's BPF program for the rules (what seccomp_load would
// generate and load). Written to a memfd: a pipe could hold less than the
// program and block.
result<std::vector<sock_filter>> export_program(scmp_filter_ctx ctx) {
  const int fd = ::memfd_create("netpen-seccomp", MFD_CLOEXEC);
  if (fd < 0) return fail("confine", fmt::format("self-confinement: memfd_create: {}", std::strerror(errno)));
  std::vector<sock_filter> program;
  std::string failure;
  if (const int rc = seccomp_export_bpf(ctx, fd); rc != 0) {
    failure = fmt::format("cannot generate the seccomp filter: {}", std::strerror(-rc));
  } else {
    const off_t size = ::lseek(fd, 0, SEEK_END);
    if (size <= 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0 ||
        size > static_cast<off_t>(BPF_MAXINSNS * sizeof(sock_filter))) {
      failure = fmt::format("the generated seccomp filter has an unexpected size ({} bytes)", size);
    } else {
      program.resize(static_cast<std::size_t>(size) / sizeof(sock_filter));
      if (::pread(fd, program.data(), static_cast<std::size_t>(size), 0) != size)
        failure = "cannot read the generated seccomp filter back";
    }
  }
  ::close(fd);
  if (!failure.empty()) return fail("confine", "self-confinement: " + failure);
  return program;
}

}  // namespace

result<std::vector<sock_filter>> compile_filter(const confinement_needs& needs) {
  auto ctx = build_filter(allow_list(needs));
  if (!ctx) return unexpected<error>(ctx.error());
  return export_program(ctx->get());
}

}  // namespace netpen::app::confine
