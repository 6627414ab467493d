// The pure judges of netpen doctor (see check.hpp): facts in, verdicts with
// the exact fix out. No I/O here; tests/unit/doctor_test.cpp feeds them
// made-up hosts.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "app/doctor/check.hpp"

namespace netpen::app::doctor {

check_result judge_user_namespaces(const userns_facts& f);
check_result judge_tun(const tun_facts& f);
check_result judge_id_maps(const id_map_facts& f);
check_result judge_ping(const ping_facts& f);

check_result judge_root(const rootful_facts& f);
check_result judge_nftables(const rootful_facts& f);
check_result judge_nfqueue(const rootful_facts& f);
check_result judge_tproxy(const rootful_facts& f);
// --root: the tree's mount namespace makes "/" private, which a chroot forbids.
check_result judge_mounts(std::optional<bool> chrooted);

// "6.1.0-18-amd64" -> {6, 1, 0}; nullopt when it does not start with N.N.
std::optional<std::tuple<int, int, int>> parse_kernel_release(std::string_view release);
check_result judge_kernel(const kernel_facts& f, bool rootful);

// The text of an errno value, e.g. "Permission denied (EACCES)".
std::string errno_name(int e);

}  // namespace netpen::app::doctor
