// The tree's capability drop (see privilege_drop.hpp).
#include "backends/common/privilege_drop.hpp"

#include <linux/capability.h>
#include <linux/securebits.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace netpen::backends {
namespace {

error drop_error(const char* step) {
  return {"privilege-drop", fmt::format("dropping the command's capabilities failed ({}): {}", step,
                                        std::strerror(errno))};
}

// Empties the bounding set: every capability this kernel knows
// (PR_CAPBSET_DROP fails with EINVAL past the last one, one system call
// per capability; verify() reads the set back).
result<void> empty_bounding_set() {
  for (int cap = 0;; ++cap) {
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0) continue;
    if (errno == EINVAL && cap > CAP_SETPCAP) return {};  // past the last one (there are at least that many)
    return unexpected(drop_error("PR_CAPBSET_DROP"));
  }
}

// Clears the inheritable set, keeping permitted and effective.
result<void> clear_inheritable() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
  if (::syscall(SYS_capget, &header, data) != 0) return unexpected(drop_error("capget"));
  for (auto& d : data) d.inheritable = 0;
  if (::syscall(SYS_capset, &header, data) != 0) return unexpected(drop_error("capset"));
  return {};
}

// Reads the result back: nothing left to gain at execve. The ambient set
// needs no read of its own: the kernel keeps it within permitted and
// inheritable (capset drops the rest), and inheritable is checked empty.
result<void> verify() {
  for (int cap = 0;; ++cap) {
    const int in_bounding = ::prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
    if (in_bounding < 0) break;
    if (in_bounding != 0)
      return fail("privilege-drop", fmt::format("capability {} is still in the bounding set", cap));
  }
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
  if (::syscall(SYS_capget, &header, data) != 0) return unexpected(drop_error("capget"));
  for (const auto& d : data)
    if (d.inheritable != 0) return fail("privilege-drop", "the inheritable capability set is not empty");
  const int bits = ::prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
  if (bits < 0 || static_cast<unsigned long>(bits) != tree_securebits())
    return fail("privilege-drop", fmt::format("securebits are {:#x}, not {:#x}", bits, tree_securebits()));
  return {};
}

}  // namespace

unsigned long tree_securebits() {
  return SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE |
         SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
}

result<void> drop_tree_privileges() {
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    return unexpected(drop_error("PR_CAP_AMBIENT_CLEAR_ALL"));
  if (auto r = empty_bounding_set(); !r) return r;
  if (auto r = clear_inheritable(); !r) return r;
  if (::prctl(PR_SET_SECUREBITS, tree_securebits(), 0, 0, 0) != 0) return unexpected(drop_error("PR_SET_SECUREBITS"));
  return verify();
}

}  // namespace netpen::backends
