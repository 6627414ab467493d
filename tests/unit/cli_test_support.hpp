// Helpers for the [cli] unit tests: parse a command line given as a list of
// words, and temporary files removed when the test ends.
#pragma once
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

#include "app/cli/parse_command_line.hpp"

namespace netpen::app::cli_test {

inline result<command_line> parse(const std::vector<std::string>& args) { return parse_command_line(args); }

inline std::string error_of(const std::vector<std::string>& args) {
  auto r = parse(args);
  return r ? std::string("<no error>") : r.error().message;
}

inline run_config config_of(const std::vector<std::string>& args) {
  auto r = parse(args);
  if (!r) return run_config{};
  auto* c = std::get_if<run_config>(&*r);
  return c != nullptr ? *c : run_config{};
}

// A file with the given contents, removed on destruction.
class temp_file {
 public:
  explicit temp_file(const std::string& contents) {
    std::string tmpl = "/tmp/netpen-cli-test-XXXXXX";
    int fd = ::mkstemp(tmpl.data());
    if (fd >= 0) ::close(fd);
    path_ = tmpl;
    std::ofstream(path_, std::ios::binary) << contents;
  }
  ~temp_file() { ::unlink(path_.c_str()); }
  temp_file(const temp_file&) = delete;
  temp_file& operator=(const temp_file&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace netpen::app::cli_test
