// The unit tests' runner: Catch2's, with exit status 77 kept for "skipped"
// (skip.hpp). Catch2 exits with the number of failed assertions, so a run
// with exactly 77 failures exits 78 instead: it must fail, not skip.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "tests/unit/skip.hpp"

int main(int argc, char* argv[]) {
  const int status = Catch::Session().run(argc, argv);
  if (status == netpen_test::skip_exit_status) return status + 1;
  if (status == 0 && netpen_test::skipped_any()) return netpen_test::skip_exit_status;
  return status;
}
