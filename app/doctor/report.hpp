// netpen doctor's output (pure): the checks as text lines or as JSON
// (docs/doctor.md), and whether the chosen backend can run.
#pragma once
#include <string>
#include <vector>

#include "app/doctor/check.hpp"

namespace netpen::app::doctor {

// All required checks pass.
bool backend_can_run(const std::vector<check_result>& checks);

// "ok", "FAIL" (required), "warn" (recommended) or "note" (info) for a check.
std::string_view state_word(const check_result& c);

// One line per check ("ok    tun  /dev/net/tun is mode 0666 and opens"),
// a "fix:" line under each that has one, and a verdict line.
std::string render_text(const std::vector<check_result>& checks, bool rootful);

// {"backend": "rootless"|"rootful", "ready": bool, "checks": [{"name",
// "ok", "level", "detail", "fix"}...]}, one line.
std::string render_json(const std::vector<check_result>& checks, bool rootful);

}  // namespace netpen::app::doctor
