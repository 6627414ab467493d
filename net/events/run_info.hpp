// What a run was (run_info: the flow log's first record, the summary's
// header) and how it ended (run_end: the log's last record, the summary's
// exit status). Plain data shared by the JSON log, the summary and report.
#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace netpen::events {

struct run_info {
  std::string netpen_version;         // "0.1.0"
  std::string backend;                // "rootless", "rootful"
  std::string command;                // the command line as a shell would need it typed (shell_quoted)
  std::vector<std::string> argv;      // the command and its arguments, exactly
  std::vector<std::string> controls;  // in force, secrets redacted: "dns 203.0.113.53",
                                      // "proxy http://u:***@h:1", "proxy-only"
  std::optional<std::string> capture; // the capture file, when there is one
  std::chrono::system_clock::time_point time = std::chrono::system_clock::now();  // run start
};

struct run_end {
  int exit_status = 0;                // netpen's exit status (128+N for signal N)
  std::chrono::milliseconds duration{0};
  std::chrono::system_clock::time_point time = std::chrono::system_clock::now();  // run end
};

}  // namespace netpen::events
