// `netpen doctor [--format text|json] [--root]`: what this host has that
// the chosen backend (rootless, or rootful with --root) needs, one line per
// capability with the exact fix of what is missing (docs/doctor.md).
// Exit status 0 when the backend can run, 1 when it cannot.
#pragma once
#include <vector>

#include "app/doctor/check.hpp"
#include "app/run_config.hpp"

namespace netpen::app::doctor {

// Probes the host and judges it (probes.hpp, checks.hpp).
std::vector<check_result> run_checks(bool rootful);

int run_doctor(const doctor_command& cmd);

}  // namespace netpen::app::doctor
