// Which exec of a sandbox a process belongs to (`create --interactive`
// asks on that exec's terminal).
//
// Each exec's command is a child of the sandbox's init that the init
// reports as "spawned ID PID", PID in the sandbox's own pid view. A flow's
// owner is known in the daemon's (host) view. The owner belongs to the exec
// whose command is the owner itself or its nearest ancestor that is one;
// the walk stops at the init (an orphan reparented to it belongs to no
// exec), at a process that is gone, or after max_depth steps. Pure; the
// /proc reader that feeds it is read_process_link().
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>

namespace netpen::app::sandboxes {

struct process_link {
  pid_t parent = 0;       // host view
  pid_t sandbox_pid = 0;  // the process's pid in the sandbox's pid namespace
};

inline constexpr int max_attribution_depth = 4096;

// The exec id `owner` (host pid) belongs to; nullopt when none.
std::optional<std::uint64_t> exec_of(pid_t owner, pid_t init_pid,
                                     const std::function<std::optional<process_link>(pid_t)>& link_of,
                                     const std::map<pid_t, std::uint64_t>& exec_by_sandbox_pid);

// From /proc/PID/stat (the parent) and /proc/PID/status (NSpid's last
// field); nullopt when the process is gone.
std::optional<process_link> read_process_link(pid_t pid);

}  // namespace netpen::app::sandboxes
