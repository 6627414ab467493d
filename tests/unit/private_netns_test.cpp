// Tests of the root kernel tests' scaffolding (private_netns): the child's
// report comes back as written or thrown, the child runs in a namespace of
// its own, and a child past its limit is reported, not waited for.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "tests/unit/private_netns.hpp"
#include "tests/unit/skip.hpp"

namespace {

std::string own_netns() { return std::filesystem::read_symlink("/proc/self/ns/net").string(); }

}  // namespace

TEST_CASE("private_netns: reports, failures and overruns come back from the child", "[private-netns][root]") {
  SKIP_UNLESS_ROOT();
  using netns_test::run_in_private_netns;
  CHECK(run_in_private_netns([] { return std::string(); }).empty());
  CHECK(run_in_private_netns([] { return std::string("skip: not here"); }) == "skip: not here");
  CHECK(run_in_private_netns([]() -> std::string {
          netns_test::expect(false, "it failed");
          return "not reached";
        }) == "it failed");
  const std::string host = own_netns();
  CHECK(run_in_private_netns([&] { return own_netns() != host ? std::string() : "still in the host's namespace"; })
            .empty());
  const auto overrun = run_in_private_netns(
      [] {
        std::this_thread::sleep_for(std::chrono::seconds(5));
        return std::string();
      },
      std::chrono::seconds(1));
  CHECK(overrun.starts_with("the namespace child died of signal"));
}
