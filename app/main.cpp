// netpen's entry point: parse the command line, dispatch to a run or a
// subcommand, and map every outcome to an exit status (2 for usage errors,
// 1 for run-time failures, otherwise the command's own status).
#include <fmt/format.h>

#include <exception>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "app/cleanup.hpp"
#include "app/cli/completion/completion_command.hpp"
#include "app/cli/parse_command_line.hpp"
#include "app/doctor/doctor.hpp"
#include "app/report.hpp"
#include "app/sandboxes/commands.hpp"
#include "app/run.hpp"
#include "net/common/log.hpp"

#if defined(__SANITIZE_ADDRESS__)
// Sanitized builds: Asio frees some objects through a different allocation
// function than it allocated them with (a known false positive); baked in so
// runs with a scrubbed environment (tests as another user) behave the same.
extern "C" const char* __asan_default_options() { return "alloc_dealloc_mismatch=0"; }
#endif

namespace {

int dispatch(const netpen::app::command_line& cmd) {
  using namespace netpen::app;
  return std::visit(
      [](const auto& c) -> int {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, run_config>) {
          if (c.quiet) netpen::log::set_level(netpen::log::level::quiet);
          if (c.verbose) netpen::log::set_level(netpen::log::level::verbose);
          return run_command(c);
        } else if constexpr (std::is_same_v<T, version_command>) {
          fmt::print("netpen {}\n", NETPEN_VERSION);
          return 0;
        } else if constexpr (std::is_same_v<T, help_command>) {
          fmt::print("{}", c.text);
          return 0;
        } else if constexpr (std::is_same_v<T, report_command>) {
          return run_report(c);
        } else if constexpr (std::is_same_v<T, doctor_command>) {
          return doctor::run_doctor(c);
        } else if constexpr (std::is_same_v<T, cleanup_command>) {
          return run_cleanup(c);
        } else if constexpr (std::is_same_v<T, create_command>) {
          if (c.run.quiet) netpen::log::set_level(netpen::log::level::quiet);
          if (c.run.verbose) netpen::log::set_level(netpen::log::level::verbose);
          return sandboxes::run_create(c);
        } else if constexpr (std::is_same_v<T, exec_command>) {
          return sandboxes::run_exec(c);
        } else if constexpr (std::is_same_v<T, list_command>) {
          return sandboxes::run_list(c);
        } else if constexpr (std::is_same_v<T, destroy_command>) {
          return sandboxes::run_destroy(c);
        } else {
          static_assert(std::is_same_v<T, completion_command>, "every command_line alternative is dispatched");
          return netpen::app::cli::completion::run_completion(c);
        }
      },
      cmd);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::vector<std::string> args(argv + 1, argv + argc);
    auto parsed = netpen::app::parse_command_line(args);
    if (!parsed) {
      netpen::log::error("{}", parsed.error().message);
      return 2;
    }
    return dispatch(*parsed);
  } catch (const std::exception& e) {
    netpen::log::error("internal error: {}", e.what());
    return 1;
  }
}
