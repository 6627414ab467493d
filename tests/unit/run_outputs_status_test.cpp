// The status a run exits with when its flow log or capture was left
// incomplete (app/run_outputs.hpp): 0 becomes 1, a failure keeps its own.
#include <catch2/catch.hpp>

#include "app/run_outputs.hpp"

using netpen::app::status_with_outputs;

TEST_CASE("run_outputs: an incomplete output turns the command's 0 into 1", "[run_outputs]") {
  CHECK(status_with_outputs(0, true) == 1);
  CHECK(status_with_outputs(0, false) == 0);
  CHECK(status_with_outputs(3, true) == 3);
  CHECK(status_with_outputs(3, false) == 3);
  CHECK(status_with_outputs(137, true) == 137);
}
