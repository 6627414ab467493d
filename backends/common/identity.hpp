// Who the command runs as: the invoking user behind sudo (SUDO_UID,
// SUDO_GID, with that user's name, home and groups), dropping to it in the
// sandbox init just before the command starts, and the environment the
// command gets (HOME, USER, LOGNAME of that user; SUDO_* removed).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "backends/sandbox.hpp"
#include "net/common/error.hpp"

namespace netpen::backends {

// The user sudo was invoked by, from SUDO_UID/SUDO_GID; nullopt when they
// are absent or name root. Malformed values are an error.
result<std::optional<command_identity>> invoking_user();

// The user `uid` as the command should become it: name, home and groups
// from the password database (uid and gid only when it has no entry).
command_identity identity_of(uid_t uid, gid_t gid);

// setgroups, setresgid, setresuid to `who`, checked (cannot regain root).
result<void> become(const command_identity& who);

// netpen's environment as the command should see it: unchanged without an
// identity; with one, HOME/USER/LOGNAME set for it and SUDO_* removed.
std::vector<std::string> command_environment(const std::optional<command_identity>& who);

}  // namespace netpen::backends
