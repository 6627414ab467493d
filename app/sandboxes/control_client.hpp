// The client's end of a sandbox's control socket: finding the sandbox by
// name and connecting to its daemon, with one clear error for each way
// that fails (no such sandbox, its daemon is gone, not ours to enter).
#pragma once
#include <string>

#include "app/sandboxes/state_dir.hpp"
#include "backends/common/unique_fd.hpp"
#include "net/common/error.hpp"

namespace netpen::app::sandboxes {

// Error codes: "unknown" (no sandbox NAME), "dead" (its daemon is gone),
// "denied" (another user's, or not in its exec group).
struct connected {
  sandbox_dir dir;
  backends::unique_fd fd;
};
result<connected> connect_by_name(const std::string& name);

// Connects to the daemon of dir (code "dead" or "denied" on failure).
result<backends::unique_fd> connect_to(const sandbox_dir& dir);

// Sends `request` and waits (at most timeout_ms) for one reply.
result<std::string> ask(int fd, std::string_view request, int timeout_ms);

}  // namespace netpen::app::sandboxes
