// Visible skips for unit tests whose precondition is missing here (root, a
// tool, a terminal): the case says "SKIPPED: why" and stops, and the run
// exits 77 (main.cpp), which ctest reports as skipped (SKIP_RETURN_CODE in
// tests/CMakeLists.txt), never as passed. Catch2 v2 has no skip of its own.
// ctest runs each case in a process of its own, so a skip there skips
// exactly that case; a whole-binary run exits 77 when a case was skipped
// and none failed. Root-only cases are also tagged [root].
#pragma once
#include <string>
#include <string_view>

namespace netpen_test {

// The exit status of a run in which a case was skipped and none failed.
inline constexpr int skip_exit_status = 77;

// Records that the running case is skipped and prints "SKIPPED: why".
void skip(std::string_view why);
// Whether any case of this run was skipped.
bool skipped_any();
// Whether this process runs as root (effective uid 0).
bool is_root();
// Whether COMMAND is found on PATH.
bool have_tool(std::string_view command);

}  // namespace netpen_test

// Statements for a TEST_CASE body; they return from it.
#define SKIP_TEST(why)        \
  do {                        \
    ::netpen_test::skip(why); \
    return;                   \
  } while (false)
#define SKIP_UNLESS_ROOT()                                  \
  do {                                                      \
    if (!::netpen_test::is_root()) SKIP_TEST("needs root"); \
  } while (false)
#define SKIP_UNLESS_TOOL(command)                                                                  \
  do {                                                                                             \
    if (!::netpen_test::have_tool(command)) SKIP_TEST(std::string(command) + " is not installed"); \
  } while (false)
