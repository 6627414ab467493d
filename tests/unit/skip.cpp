// The skip record behind skip.hpp: which cases of this run were skipped.
#include "tests/unit/skip.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string>

namespace netpen_test {
namespace {

bool skipped = false;

}  // namespace

void skip(std::string_view why) {
  skipped = true;
  std::cout << "SKIPPED: " << Catch::getResultCapture().getCurrentTestName() << ": " << why << std::endl;
}

bool skipped_any() { return skipped; }

bool is_root() { return ::geteuid() == 0; }

bool have_tool(std::string_view command) {
  const std::string probe = "command -v '" + std::string(command) + "' > /dev/null 2>&1";
  return std::system(probe.c_str()) == 0;
}

}  // namespace netpen_test
