// netpen's seccomp filter as a BPF program: the allow-list's rules
// (syscall_allow_list.hpp) handed to libseccomp, which generates the
// program (default action SECCOMP_RET_TRAP, also for another architecture).
// Pure in that it only computes (a memfd carries libseccomp's output).
// Run at build time by tools/gen_seccomp_filters.cpp, whose output is what
// netpen loads (seccomp_filters.hpp): compiling it at every start cost
// ~1-3 ms of CPU and ~40 page faults; the unit tests compile it again and
// compare.
#pragma once

#include <linux/filter.h>

#include <vector>

#include "app/confine/syscall_allow_list.hpp"
#include "net/common/error.hpp"

namespace netpen::app::confine {

result<std::vector<sock_filter>> compile_filter(const confinement_needs& needs);

}  // namespace netpen::app::confine
