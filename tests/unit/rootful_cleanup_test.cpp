// Unit tests for `netpen cleanup` (backends/rootful/cleanup) over live,
// dead, corrupt and missing records, and its network-namespace judgement:
// a run's changes are undone only in the namespace they were made in.
#include <catch2/catch.hpp>

#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "backends/rootful/cleanup.hpp"
#include "backends/rootful/run_state.hpp"
#include "tests/unit/rootful_state_test_util.hpp"
#include "tests/unit/skip.hpp"

using namespace netpen::backends::rootful;
using namespace rootful_state_test;

namespace {

// A state root holding a live run (this process, 11aa11), a dead run with
// one change of each kind (22bb22), a run whose pid was reused (33cc33), a
// corrupt record (44dd44), a run killed before its first record (55ee55:
// no state.json; nothing to undo, its directory goes) and
// a stray file. The runs' states stay open, as the runs' own would.
struct mixed_root {
  temp_dir tmp;
  int dead_pid = 0;
  std::vector<run_state> runs;

  mixed_root() {
    const auto self = this_run_record("11aa11", "sleep 100");
    REQUIRE(self);
    auto live = run_state::create(tmp.path, *self);
    REQUIRE(live);
    REQUIRE(live->record_intent(veth{"np11aa11"}));

    const auto [pid, start] = dead_process();
    dead_pid = pid;
    auto dead = run_state::create(tmp.path, record_for("22bb22", pid, start));
    REQUIRE(dead);
    for (const auto& c : every_kind()) REQUIRE(dead->record_intent(c));
    // This process's pid with another start time: the pid was reused.
    auto reused = run_state::create(tmp.path, record_for("33cc33", static_cast<int>(::getpid()), self->start_time + 1));
    REQUIRE(reused);
    REQUIRE(reused->record_intent(veth{"np33cc33"}));

    fs::create_directory(tmp.path / "44dd44");
    std::ofstream(tmp.path / "44dd44" / "state.json") << "{not json";
    fs::permissions(tmp.path / "44dd44", fs::perms::owner_all, fs::perm_options::replace);
    fs::create_directory(tmp.path / "55ee55");  // no state.json: killed inside run_state::create
    fs::permissions(tmp.path / "55ee55", fs::perms::owner_all, fs::perm_options::replace);
    std::ofstream(tmp.path / "55ee55" / "state.json.tmp") << "{\"schema_version\": 1, \"id\": \"55";  // cut short
    std::ofstream(tmp.path / "stray-file") << "x";
    runs.push_back(std::move(*live));
    runs.push_back(std::move(*dead));
    runs.push_back(std::move(*reused));
  }
};

// A child process in a network namespace of its own, reporting the
// namespace's cookie; stop() (or the destructor) kills it.
struct netns_holder {
  pid_t pid = -1;
  bool reported = false;  // it answered at all
  bool unshared = false;  // ... with a namespace and its cookie
  std::uint64_t cookie = 0;
  std::string name;       // net:[inode]

  netns_holder() {
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    pid = ::fork();
    if (pid == 0) {
      // Reports 'y' and the new namespace's cookie, or 'n'.
      char msg[1 + sizeof(std::uint64_t)] = {'n'};
      if (::unshare(CLONE_NEWNET) == 0) {
        if (const auto own = current_netns_cookie()) {
          msg[0] = 'y';
          std::memcpy(msg + 1, &*own, sizeof(*own));
        }
      }
      (void)::write(ready[1], msg, sizeof(msg));
      ::pause();
      ::_exit(0);
    }
    char msg[1 + sizeof(std::uint64_t)] = {'n'};
    reported = ::read(ready[0], msg, sizeof(msg)) == static_cast<ssize_t>(sizeof(msg));
    ::close(ready[0]);
    ::close(ready[1]);
    unshared = msg[0] == 'y';
    std::memcpy(&cookie, msg + 1, sizeof(cookie));
    std::error_code ec;
    name = fs::read_symlink(fmt::format("/proc/{}/ns/net", pid), ec).string();
  }
  ~netns_holder() { stop(); }
  netns_holder(const netns_holder&) = delete;
  netns_holder& operator=(const netns_holder&) = delete;

  void stop() {
    if (pid <= 0) return;
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    pid = -1;
  }
};

}  // namespace

TEST_CASE("cleanup skips live runs, undoes dead ones, leaves corrupt ones", "[rootful-state]") {
  mixed_root root;
  const auto& tmp = root.tmp;
  const int dead_pid = root.dead_pid;

  SECTION("dry run lists and changes nothing") {
    fake_undo undo;
    captured_output out;
    const auto report = cleanup_leftovers(tmp.path, undo, true, out.file);
    const std::string text = out.text();
    INFO(text);
    CHECK(undo.undone.empty());
    CHECK(report.cleaned == std::vector<std::string>{"22bb22", "33cc33"});
    CHECK(report.skipped_live == std::vector<std::string>{"11aa11"});
    CHECK(report.unreadable == std::vector<std::string>{"44dd44"});
    CHECK(report.unrecorded == std::vector<std::string>{"55ee55"});
    CHECK(report.changes_undone == 6);
    CHECK(text.find("run 55ee55 (killed before its first record was written)\n  would remove ") != std::string::npos);
    CHECK(text.find("run 11aa11: skipped (running, pid " + std::to_string(::getpid()) + ")") != std::string::npos);
    CHECK(text.find("  would undo: veth np3fa9c1\n") != std::string::npos);
    CHECK(text.find("  would undo: IPv4 routes in table 4242\n") < text.find("  would undo: veth np3fa9c1\n"));
    CHECK(text.find("run 44dd44: left alone: ") != std::string::npos);
    for (const char* id : {"11aa11", "22bb22", "33cc33", "44dd44", "55ee55"}) CHECK(fs::exists(tmp.path / id));
    CHECK(changes_on_disk(tmp.path / "22bb22") == every_kind());
  }
  SECTION("a real run undoes dead runs in reverse and removes them") {
    fake_undo undo;
    captured_output out;
    const auto report = cleanup_leftovers(tmp.path, undo, false, out.file);
    const std::string text = out.text();
    INFO(text);
    auto expected = every_kind();
    std::reverse(expected.begin(), expected.end());
    expected.emplace_back(veth{"np33cc33"});
    CHECK(undo.undone == expected);
    CHECK(report.cleaned == std::vector<std::string>{"22bb22", "33cc33"});
    CHECK(report.changes_undone == 6);
    CHECK_FALSE(report.ok());  // the corrupt records are still there
    CHECK(text.find("run 22bb22 (pid " + std::to_string(dead_pid) + " is gone): curl example.com\n") != std::string::npos);
    CHECK(text.find("  undone: sysctl net.ipv4.conf.np3fa9c1.forwarding back to 0\n") != std::string::npos);
    CHECK_FALSE(fs::exists(tmp.path / "22bb22"));
    CHECK_FALSE(fs::exists(tmp.path / "33cc33"));
    CHECK(fs::exists(tmp.path / "11aa11"));
    CHECK(changes_on_disk(tmp.path / "11aa11") == std::vector<host_change>{veth{"np11aa11"}});
    CHECK(fs::exists(tmp.path / "44dd44" / "state.json"));
    CHECK(report.unrecorded == std::vector<std::string>{"55ee55"});
    CHECK_FALSE(fs::exists(tmp.path / "55ee55"));
    CHECK(fs::exists(tmp.path / "stray-file"));
  }
  SECTION("a change that cannot be undone keeps the run for a later try") {
    fake_undo undo;
    undo.refuse = {"veth np3fa9c1"};
    captured_output out;
    const auto report = cleanup_leftovers(tmp.path, undo, false, out.file);
    const std::string text = out.text();
    INFO(text);
    CHECK(report.incomplete == std::vector<std::string>{"22bb22"});
    CHECK(report.changes_failed == 1);
    CHECK(text.find("  failed: veth np3fa9c1: device busy\n") != std::string::npos);
    CHECK(changes_on_disk(tmp.path / "22bb22") == std::vector<host_change>{veth{"np3fa9c1"}});
    // The next cleanup retries only what is left.
    undo.refuse.clear();
    undo.undone.clear();
    captured_output again;
    cleanup_leftovers(tmp.path, undo, false, again.file);
    CHECK(undo.undone == std::vector<host_change>{veth{"np3fa9c1"}});
    CHECK_FALSE(fs::exists(tmp.path / "22bb22"));
  }
}

TEST_CASE("cleanup of a missing or empty root has nothing to do", "[rootful-state]") {
  temp_dir tmp;
  fake_undo undo;
  captured_output out;
  const auto report = cleanup_leftovers(tmp.path / "absent", undo, false, out.file);
  CHECK(report.ok());
  CHECK(out.text() == "nothing to clean up\n");
  CHECK_FALSE(fs::exists(tmp.path / "absent"));
}

TEST_CASE("cleanup never undoes a run's changes in another network namespace: one nobody holds took them along",
          "[rootful-state]") {
  temp_dir tmp;
  const auto [dead_pid, dead_start] = dead_process();
  fake_undo undo;
  // Only the record goes.
  auto rec = record_for("55ee55", dead_pid, dead_start);
  rec.netns = "net:[1]";
  rec.netns_cookie = current_netns_cookie().value_or(0) + 1000;
  auto dead = run_state::create(tmp.path, rec);
  REQUIRE(dead);
  REQUIRE(dead->record_intent(sysctl{"net/ipv4/conf/eth0/forwarding", "0"}));
  captured_output out;
  const auto report = cleanup_leftovers(tmp.path, undo, false, out.file);
  const std::string text = out.text();
  CHECK(undo.undone.empty());
  CHECK(report.cleaned.empty());
  CHECK(report.stale == std::vector<std::string>{"55ee55"});
  CHECK_FALSE(fs::exists(tmp.path / "55ee55"));
  CHECK(text.find("stale record: its network namespace net:[1] is gone") != std::string::npos);
}

// Holding a second network namespace needs root (unshare in a child).
TEST_CASE("cleanup never undoes a run's changes in another network namespace: one held elsewhere is left alone",
          "[rootful-state][root]") {
  SKIP_UNLESS_ROOT();
  temp_dir tmp;
  const auto [dead_pid, dead_start] = dead_process();
  fake_undo undo;
  // Left alone, unless its inode is another namespace's now.
  netns_holder holder;
  const std::string held = holder.name;
  const std::uint64_t held_cookie = holder.cookie;

  const auto found = find_netns(held);
  // Its own: the same inode and cookie. Old: no cookie, judged by the inode.
  // Reused: the inode of a namespace that died, now the holder's.
  std::vector<std::string> ids{"66ff66", "77aa77", "88bb88"};
  for (const auto& id : ids) {
    auto rec = record_for(id, dead_pid, dead_start);
    rec.netns = held;
    if (id == "66ff66") rec.netns_cookie = held_cookie;
    if (id == "77aa77") rec.netns_cookie.reset();
    if (id == "88bb88") rec.netns_cookie = held_cookie + 1000;
    auto dead = run_state::create(tmp.path, rec);
    REQUIRE(dead);
    REQUIRE(dead->record_intent(sysctl{"net/ipv4/conf/eth0/forwarding", "0"}));
  }
  captured_output dry_out;
  const auto dry = cleanup_leftovers(tmp.path, undo, true, dry_out.file);
  captured_output out;
  const auto report = cleanup_leftovers(tmp.path, undo, false, out.file);
  holder.stop();
  REQUIRE(holder.reported);
  REQUIRE(holder.unshared);
  REQUIRE(found.has_value());
  CHECK(found->name == held);
  CHECK(found->cookie == held_cookie);
  CHECK(held_cookie != current_netns_cookie());
  const std::string dry_text = dry_out.text();
  const std::string text = out.text();
  INFO(dry_text);
  INFO(text);
  CHECK(undo.undone.empty());
  CHECK(dry.stale == std::vector<std::string>{"88bb88"});
  CHECK(dry.other_netns == std::vector<std::string>{"66ff66", "77aa77"});
  CHECK(dry_text.find("run 88bb88 (pid " + std::to_string(dead_pid) + " is gone): stale record: its network namespace " +
                      held + " (cookie " + std::to_string(held_cookie + 1000) + ") is gone") != std::string::npos);
  CHECK(dry_text.find("  would remove " + (tmp.path / "88bb88").string() + " (stale") != std::string::npos);
  CHECK(report.other_netns == std::vector<std::string>{"66ff66", "77aa77"});
  CHECK(report.stale == std::vector<std::string>{"88bb88"});
  CHECK(report.ok());
  CHECK(fs::exists(tmp.path / "66ff66"));
  CHECK(fs::exists(tmp.path / "77aa77"));
  CHECK_FALSE(fs::exists(tmp.path / "88bb88"));
  CHECK(text.find("run 66ff66: skipped (made in network namespace " + held) != std::string::npos);
  CHECK(text.find("is now another namespace (cookie " + std::to_string(held_cookie) + ")") != std::string::npos);
}

TEST_CASE("a record of this namespace's inode with another cookie is stale: dropped, never undone",
          "[rootful-cleanup]") {
  temp_dir tmp;
  const auto here = current_netns_cookie();
  REQUIRE(here.has_value());  // kernel >= 5.14
  const auto [dead_pid, dead_start] = dead_process();
  auto stale = record_for("99cc99", dead_pid, dead_start);
  stale.netns_cookie = *here + 1000;  // a namespace that died and left its inode to this one
  auto own = record_for("aadd00", dead_pid, dead_start);
  auto old = record_for("bbee00", dead_pid, dead_start);
  old.netns_cookie.reset();  // written before records had a cookie
  for (const auto& rec : {stale, own, old}) {
    auto st = run_state::create(tmp.path, rec);
    REQUIRE(st);
    REQUIRE(st->record_intent(veth{"np" + rec.id}));
  }
  fake_undo undo;
  {
    captured_output out;
    const auto report = cleanup_leftovers(tmp.path, undo, true, out.file);
    const std::string text = out.text();
    INFO(text);
    CHECK(undo.undone.empty());
    CHECK(report.stale == std::vector<std::string>{"99cc99"});
    CHECK(report.cleaned == std::vector<std::string>{"aadd00", "bbee00"});
    CHECK(text.find("run 99cc99 (pid " + std::to_string(dead_pid) + " is gone): stale record: its network namespace " +
                    current_netns() + " (cookie " + std::to_string(*here + 1000) + ") is gone, and its changes with it; " +
                    current_netns() + " is now this namespace (cookie " + std::to_string(*here) + ")\n") !=
          std::string::npos);
    CHECK(text.find("  would remove " + (tmp.path / "99cc99").string() + " (stale: nothing to undo)\n") !=
          std::string::npos);
    CHECK(text.find("would undo: veth np99cc99") == std::string::npos);
    CHECK(fs::exists(tmp.path / "99cc99"));
  }
  captured_output out;
  const auto report = cleanup_leftovers(tmp.path, undo, false, out.file);
  INFO(out.text());
  CHECK(undo.undone == std::vector<host_change>{veth{"npaadd00"}, veth{"npbbee00"}});
  CHECK(report.stale == std::vector<std::string>{"99cc99"});
  CHECK(report.cleaned == std::vector<std::string>{"aadd00", "bbee00"});
  CHECK(report.ok());
  CHECK(list_runs(tmp.path).empty());
}

TEST_CASE("judge_netns: undo only in the recorded namespace, drop when it is gone or its inode reused",
          "[rootful-cleanup]") {
  using v = netns_verdict;
  const netns_identity here{"net:[100]", 7};
  const std::optional<netns_identity> nobody;
  // Made here.
  CHECK(judge_netns({"net:[100]", 7}, here, nobody) == v::undo);
  CHECK(judge_netns({"net:[100]", std::nullopt}, here, nobody) == v::undo);  // an old record: by inode
  CHECK(judge_netns({"net:[100]", std::nullopt}, {"net:[100]", std::nullopt}, nobody) == v::undo);
  // This namespace has the inode of the one the run used, which is gone.
  CHECK(judge_netns({"net:[100]", 3}, here, nobody) == v::drop_reused);
  CHECK(judge_netns({"net:[100]", 3}, here, netns_identity{"net:[100]", 7}) == v::drop_reused);
  // Recorded with a cookie that cannot be read here: cannot tell, never undo.
  CHECK(judge_netns({"net:[100]", 7}, {"net:[100]", std::nullopt}, nobody) == v::leave);
  // Another namespace, gone.
  CHECK(judge_netns({"net:[200]", 9}, here, nobody) == v::drop_gone);
  CHECK(judge_netns({"net:[200]", std::nullopt}, here, nobody) == v::drop_gone);
  // Another namespace that still exists.
  CHECK(judge_netns({"net:[200]", 9}, here, netns_identity{"net:[200]", 9}) == v::leave);
  CHECK(judge_netns({"net:[200]", std::nullopt}, here, netns_identity{"net:[200]", 9}) == v::leave);
  CHECK(judge_netns({"net:[200]", 9}, here, netns_identity{"net:[200]", std::nullopt}) == v::leave);
  // ... or its inode, now another namespace's.
  CHECK(judge_netns({"net:[200]", 9}, here, netns_identity{"net:[200]", 11}) == v::drop_reused);
  // Unknown, or at odds with itself (another inode, this cookie): left alone.
  CHECK(judge_netns({"", 9}, here, nobody) == v::leave);
  CHECK(judge_netns({"", std::nullopt}, here, nobody) == v::leave);
  CHECK(judge_netns({"net:[200]", 7}, here, nobody) == v::leave);
  // find_netns: an unknown name counts as held; a namespace that is gone is not found.
  CHECK(find_netns("")->name.empty());
  CHECK_FALSE(find_netns("net:[1]"));
}

// Reading a namespace's cookie joins it (setns), which needs CAP_SYS_ADMIN.
TEST_CASE("find_netns: this namespace is found with its cookie", "[rootful-cleanup][root]") {
  SKIP_UNLESS_ROOT();
  const auto self = find_netns(current_netns());
  REQUIRE(self.has_value());
  CHECK(self->cookie == current_netns_cookie());
}

// A run killed while writing its first record leaves state.json.tmp and no
// state.json (issue 20 §4): cleanup removes it (nothing was changed yet),
// unless the draft names a live process.
TEST_CASE("cleanup removes runs killed before their first record", "[rootful-state]") {
  temp_dir tmp;
  const auto [pid, start] = dead_process();
  const auto draft_in = [&](const std::string& id, const run_record& r) {
    fs::create_directory(tmp.path / id);
    fs::permissions(tmp.path / id, fs::perms::owner_all, fs::perm_options::replace);
    std::ofstream(tmp.path / id / "state.json.tmp") << to_json(r).dump(2);
    fs::permissions(tmp.path / id / "state.json.tmp", fs::perms::owner_read | fs::perms::owner_write,
                    fs::perm_options::replace);
  };
  draft_in("aa0001", record_for("aa0001", pid, start));
  auto self = this_run_record("aa0002", "sleep 100");
  REQUIRE(self);
  draft_in("aa0002", *self);
  fs::create_directory(tmp.path / "aa0003");  // killed before it wrote a byte
  fs::permissions(tmp.path / "aa0003", fs::perms::owner_all, fs::perm_options::replace);
  fake_undo undo;
  captured_output out;
  const auto report = cleanup_leftovers(tmp.path, undo, false, out.file);
  const std::string text = out.text();
  INFO(text);
  CHECK(report.ok());
  CHECK(undo.undone.empty());
  CHECK(report.unrecorded == std::vector<std::string>{"aa0001", "aa0003"});
  CHECK(report.skipped_live == std::vector<std::string>{"aa0002"});
  CHECK(text.find(fmt::format("run aa0001 (killed before its first record was written; pid {} is gone): curl example.com\n",
                              pid)) != std::string::npos);
  CHECK_FALSE(fs::exists(tmp.path / "aa0001"));
  CHECK_FALSE(fs::exists(tmp.path / "aa0003"));
  CHECK(fs::exists(tmp.path / "aa0002"));
}
