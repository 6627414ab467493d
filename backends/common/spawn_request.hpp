// What a persistent sandbox is asked to run, and its wire form. A client's
// exec_request (argv, environment, working directory, whether its stdin is
// a terminal) travels to the sandbox's daemon, which adds who the command
// runs as and an id, and hands the resulting spawn_request to the sandbox
// init (pid 1 inside the namespaces), which forks and execs it. The wire
// form is a sequence of NUL-terminated fields (argv and environment strings
// cannot contain NUL): a tag, then the fields in a fixed order, lists as a
// count followed by their items. Pure: no I/O.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backends/sandbox.hpp"
#include "net/common/error.hpp"

namespace netpen::backends {

struct exec_request {
  std::vector<std::string> argv;  // non-empty; argv[0] looked up in the command's PATH
  std::vector<std::string> env;   // "NAME=value"
  std::string cwd;               // the client's working directory ("/" when it cannot be entered)
  bool tty = false;              // the fds are a terminal: make it the command's controlling terminal
};

struct spawn_request {
  std::uint64_t id = 0;                      // the daemon's name for this exec
  std::optional<command_identity> identity;  // drop to this user first (nullopt: stay as the init is)
  exec_request exec;
};

std::string encode_exec_request(const exec_request& r);
result<exec_request> decode_exec_request(std::string_view wire);

std::string encode_spawn_request(const spawn_request& r);
result<spawn_request> decode_spawn_request(std::string_view wire);

}  // namespace netpen::backends
