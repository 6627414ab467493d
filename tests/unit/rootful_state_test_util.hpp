// Test helpers shared by rootful_state_test.cpp and rootful_cleanup_test.cpp:
// a scratch state root, one host change of each kind, a fake undo, records
// of live or gone processes, and the text cleanup prints.
#pragma once
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "backends/rootful/host_undo.hpp"
#include "backends/rootful/run_state.hpp"

namespace rootful_state_test {

using namespace netpen::backends::rootful;
namespace fs = std::filesystem;

struct temp_dir {
  temp_dir() {
    std::string tmpl = (fs::temp_directory_path() / "netpen-state-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};

inline std::vector<host_change> every_kind() {
  return {veth{"np3fa9c1"},
          nft_table{"inet", "netpen_3fa9c1"},
          sysctl{"net/ipv4/conf/np3fa9c1/forwarding", "0"},
          ip_rule{ip_family::ipv6, 0x10000, 0xff0000, 1000, 2000},
          route_table{ip_family::ipv4, 4242}};
}

// Records each undo; fails the ones whose description is in `refuse`.
struct fake_undo : host_undo {
  std::vector<host_change> undone;
  std::set<std::string> refuse;
  std::function<void(const host_change&)> on_undo;
  netpen::result<void> undo(const host_change& c) override {
    if (on_undo) on_undo(c);
    if (refuse.contains(describe(c))) return netpen::fail("busy", "device busy");
    undone.push_back(c);
    return {};
  }
};

inline run_record record_for(std::string id, int pid, std::uint64_t start) {
  run_record r;
  r.id = std::move(id);
  r.pid = pid;
  r.start_time = start;
  r.command = "curl example.com";
  r.netns = current_netns();
  r.netns_cookie = current_netns_cookie();
  r.created_unix = 1700000000;
  return r;
}

inline std::vector<host_change> changes_on_disk(const fs::path& dir) {
  auto s = run_state::load(dir);
  REQUIRE(s);
  return s->record().changes;
}

// A process that existed and is gone: its pid and start time.
inline std::pair<int, std::uint64_t> dead_process() {
  int p[2];
  REQUIRE(::pipe(p) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    char c;
    ::close(p[1]);
    (void)!::read(p[0], &c, 1);
    ::_exit(0);
  }
  ::close(p[0]);
  const auto start = process_start_time(pid);
  ::close(p[1]);  // the child reads EOF and exits
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(start.has_value());
  return {pid, *start};
}

// Captures what cleanup prints.
struct captured_output {
  captured_output() { file = ::open_memstream(&buf, &size); }
  ~captured_output() {
    if (file) std::fclose(file);
    std::free(buf);
  }
  std::string text() {
    std::fflush(file);
    return std::string(buf, size);
  }
  std::FILE* file = nullptr;
  char* buf = nullptr;
  std::size_t size = 0;
};

inline int mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return static_cast<int>(st.st_mode & 07777);
}

}  // namespace rootful_state_test
