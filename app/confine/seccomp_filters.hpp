// netpen's seccomp filters, compiled at build time (tools/
// gen_seccomp_filters.cpp runs filter_compiler.hpp for every combination of
// confinement_needs): what self_confinement.cpp loads. A new field of
// confinement_needs needs its combinations in the generator (the unit test
// `confine` compares every program with a fresh compile).
#pragma once

#include <linux/filter.h>

#include <span>

#include "app/confine/syscall_allow_list.hpp"

namespace netpen::app::confine {

std::span<const sock_filter> precompiled_filter(const confinement_needs& needs);

}  // namespace netpen::app::confine
