// The persistent-sandbox subcommands (docs/sandboxes.md): create, exec,
// list, destroy, and the sandboxes' part of cleanup. Each returns netpen's
// exit status: 0, 1 for a run-time failure (unknown or existing name, a
// dead sandbox, a refusal), 2 for a usage error; exec returns its command's
// status (128+N for signal N).
#pragma once
#include <cstddef>
#include <cstdio>

#include "app/run_config.hpp"

namespace netpen::app::sandboxes {

int run_create(const create_command& cmd);
int run_exec(const exec_command& cmd);
int run_list(const list_command& cmd);
int run_destroy(const destroy_command& cmd);

// Removes the caller's sandboxes whose daemon is gone (and, for root, the
// group-shared ones); prints one line each. found: how many dead (or never
// ready) ones there were; ok false when one could not be removed.
struct cleanup_outcome {
  std::size_t found = 0;
  bool ok = true;
};
cleanup_outcome cleanup_dead(bool dry_run, std::FILE* out);
// Root only: the same for every other user with sandboxes under
// /run/user/UID, each done by a child that has become that user.
cleanup_outcome cleanup_others_dead(bool dry_run, std::FILE* out);

}  // namespace netpen::app::sandboxes
