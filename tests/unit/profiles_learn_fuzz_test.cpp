// [profiles] profile_learner cases found by fuzz/fuzz_flow_log.cpp (its
// oracle: the profile learned from any log loads, and holds nothing but
// the policy). The input that found the first is
// fuzz/corpus/flow_log/regress-empty-destination.
#include <catch2/catch.hpp>

#include "app/learn/profile_learner.hpp"
#include "tests/unit/learned_profile_test_util.hpp"

using namespace netpen;
using namespace netpen::app;

namespace {

events::event open_flow(std::string dst, std::optional<std::string> name, std::string command) {
  return test::learned_flow(events::kind::flow_open, "10.248.0.2:40000", std::move(dst), std::move(name),
                            std::move(command));
}

}  // namespace

// regress-empty-destination: a flow_open without "dst" was learned as the
// entry "", and the profile failed to load ("empty value in the list").
TEST_CASE("fuzz: a destination --allow does not take is left out of the learned profile", "[profiles][fuzz]") {
  app::learn::profile_learner learner;
  learner.add(open_flow("", std::nullopt, "curl"));
  learner.add(open_flow("203.0.113.9:443", std::string("exa mple.com"), "curl"));
  learner.add(open_flow("203.0.113.10:443", std::string("web.example"), "curl"));
  const std::string text = learner.render(std::nullopt);
  CHECK(test::profile_tokens(text) == std::vector<std::string>{"--allow=web.example:443", "--default-policy=deny"});
  CHECK(text.find("# 2 destinations of the log skipped") != std::string::npos);
}

// A command line, a backend or a process name from the log holding a
// newline ended its comment line, and the rest became TOML: a setting of
// the log's choosing in the profile one then enforces.
TEST_CASE("fuzz: text from the log in a comment cannot start a TOML line", "[profiles][fuzz]") {
  app::learn::profile_learner learner;
  learner.add(open_flow("203.0.113.10:443", std::string("web.example"), "x\nproxy = \"http://evil.example:1\"\n#"));
  events::run_info info;
  info.backend = "rootless\ndns = \"192.0.2.1\"";
  info.command = "curl\nallow = [\"0.0.0.0/0\"]";
  const std::string text = learner.render(info);
  CHECK(test::profile_tokens(text) == std::vector<std::string>{"--allow=web.example:443", "--default-policy=deny"});
}
