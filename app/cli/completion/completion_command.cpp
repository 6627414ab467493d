// `netpen completion` (see completion_command.hpp): the generated texts and
// the lists the scripts ask for.
#include "app/cli/completion/completion_command.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <set>

#include "app/cli/completion/script_text.hpp"
#include "app/cli/profiles/config_location.hpp"
#include "app/sandboxes/state_dir.hpp"

namespace netpen::app::cli::completion {
namespace {

std::vector<std::string> profiles_of(const std::optional<std::string>& config) {
  std::optional<std::filesystem::path> file;
  if (config) file = *config;
  else file = profiles::default_config_path();
  if (!file) return {};
  return profiles::profile_names(*file);
}

std::vector<std::string> sandbox_names() {
  std::set<std::string> names;
  for (const auto& root : sandboxes::search_roots())
    for (const auto& dir : sandboxes::list_in(root)) names.insert(dir.name);
  return {names.begin(), names.end()};
}

}  // namespace

int run_completion(const completion_command& cmd) {
  try {
    if (!cmd.list.empty()) {
      std::vector<std::string> words;
      if (cmd.list == "profiles") words = profiles_of(cmd.config);
      if (cmd.list == "sandboxes") words = sandbox_names();
      for (const auto& w : words) fmt::print("{}\n", w);
      return 0;
    }
  } catch (const std::exception&) {
    return 0;  // a completion list never complains
  }
  const cli_model model = make_cli_model();
  std::string text;
  if (cmd.man) text = man_page(model, NETPEN_VERSION);
  else if (cmd.shell == "bash") text = bash_script(model);
  else if (cmd.shell == "zsh") text = zsh_script(model);
  else text = fish_script(model);
  fmt::print("{}", text);
  std::fflush(stdout);
  return 0;
}

}  // namespace netpen::app::cli::completion
