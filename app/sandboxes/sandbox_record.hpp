// A persistent sandbox's record (record.json in its state directory): what
// `netpen list` shows and `netpen cleanup` needs once the daemon is gone.
// Written once by the daemon when the sandbox is ready. Pure: rendering and
// parsing only, plus the list's text and JSON forms.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "net/common/error.hpp"

namespace netpen::app::sandboxes {

struct sandbox_record {
  std::string name;
  std::string backend;                    // "rootless" or "rootful"
  uid_t owner_uid = 0;
  std::string owner;                      // the owner's user name (or uid)
  std::int64_t created_unix = 0;
  pid_t daemon_pid = 0;
  pid_t init_pid = 0;
  std::string policy;                     // one line
  std::optional<std::string> exec_group;  // --exec-group
  std::string rootful_run;                // --root: the run id recorded under /run/netpen
};

std::string render_record(const sandbox_record& r);
result<sandbox_record> parse_record(std::string_view text);

// One line of `netpen list`.
struct listed_sandbox {
  sandbox_record record;
  bool live = false;
  std::optional<unsigned> processes;  // commands running (live only)
};

// "2026-12-05T17:13:02Z"
std::string utc_time(std::int64_t unix_seconds);
std::string render_list_text(const std::vector<listed_sandbox>& list);
std::string render_list_json(const std::vector<listed_sandbox>& list);

}  // namespace netpen::app::sandboxes
