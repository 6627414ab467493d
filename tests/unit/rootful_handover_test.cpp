// Unit tests for the handover between concurrent rootful runs: the pure
// rules (which changes may be handed over, which run inherits, what a run
// was handed), the state lock between processes, the guard stack and
// `netpen cleanup` handing a shared sysctl to a live run (fake undo), and,
// as root in a private network namespace, a real forwarding sysctl that
// stays on until the last of two runs ends.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "backends/common/sysctl.hpp"
#include "backends/rootful/cleanup.hpp"
#include "backends/rootful/guard_stack.hpp"
#include "backends/rootful/handover.hpp"
#include "backends/rootful/handover_rules.hpp"
#include "backends/rootful/host_undo.hpp"
#include "backends/rootful/run_state.hpp"
#include "backends/rootful/state_lock.hpp"
#include "tests/unit/private_netns.hpp"

using namespace netpen::backends::rootful;
namespace fs = std::filesystem;

namespace {

const sysctl uplink_forwarding{"net/ipv4/conf/eth0/forwarding", "0"};

// A fresh directory, removed with everything in it.
struct scratch_root {
  scratch_root() {
    std::string tmpl = (fs::temp_directory_path() / "netpen-handover-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) != nullptr) path = tmpl;
  }
  ~scratch_root() {
    std::error_code ec;
    if (!path.empty()) fs::remove_all(path, ec);
  }
  fs::path path;
};

// Records each undo, and may act while one is undone.
struct recording_undo : host_undo {
  std::vector<host_change> undone;
  std::function<void(const host_change&)> on_undo;
  netpen::result<void> undo(const host_change& c) override {
    if (on_undo) on_undo(c);
    undone.push_back(c);
    return {};
  }
};

// A run record of this process (alive, this namespace) under another id.
run_record live_record(const std::string& id, std::int64_t created = 1700000000) {
  auto r = this_run_record(id, "sleep 30");
  REQUIRE(r);
  r->created_unix = created;
  return *r;
}

// The record of a run whose process is gone: the pid and start time of a
// child that was forked, noted and killed.
run_record dead_record(const std::string& id) {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::pause();
    ::_exit(0);
  }
  const auto start = process_start_time(pid);
  ::kill(pid, SIGKILL);
  REQUIRE(::waitpid(pid, nullptr, 0) == pid);
  REQUIRE(start);
  auto r = live_record(id);
  r.pid = pid;
  r.start_time = *start;
  return r;
}

std::vector<host_change> on_disk(const fs::path& dir) {
  auto s = run_state::load(dir);
  REQUIRE(s);
  return s->record().changes;
}

// Whether another process can take the flock on <root>/.lock right now.
bool another_process_can_lock(const fs::path& root) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open((root / ".lock").c_str(), O_RDWR | O_CLOEXEC);
    ::_exit(fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) == 0 ? 0 : 1);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::string captured(const std::function<void(std::FILE*)>& fn) {
  char* buf = nullptr;
  std::size_t size = 0;
  std::FILE* f = ::open_memstream(&buf, &size);
  fn(f);
  std::fclose(f);
  std::string out(buf, size);
  std::free(buf);
  return out;
}

}  // namespace

TEST_CASE("only shared sysctls are handed over, never a run's own veth settings", "[rootful-undo]") {
  const std::vector<host_change> record{veth{"np3fa9c1"}, uplink_forwarding,
                                        sysctl{"net/ipv4/conf/np3fa9c1/forwarding", "0"},
                                        sysctl{"net/ipv6/conf/all/forwarding", "0"}, nft_table{"inet", "netpen_3fa9c1"}};
  CHECK(may_hand_over(uplink_forwarding, record));
  CHECK(may_hand_over(sysctl{"net/ipv6/conf/all/forwarding", "0"}, record));
  CHECK_FALSE(may_hand_over(sysctl{"net/ipv4/conf/np3fa9c1/forwarding", "0"}, record));
  CHECK_FALSE(may_hand_over(veth{"np3fa9c1"}, record));
  CHECK_FALSE(may_hand_over(nft_table{"inet", "netpen_3fa9c1"}, record));
  CHECK_FALSE(may_hand_over(route_table{ip_family::ipv4, 4242}, record));
  // A record without the veth (it was undone, or the sysctl was handed over): shared.
  CHECK(may_hand_over(sysctl{"net/ipv4/conf/eth1/forwarding", "0"}, {}));
}

TEST_CASE("the heir is the newest live run in the same namespace, never self", "[rootful-state]") {
  const netns_identity here{"net:[100]", 7};
  auto run = [](std::string id, bool alive, netns_identity ns, std::int64_t created) {
    return run_candidate{std::move(id), alive, std::move(ns), created};
  };
  CHECK_FALSE(pick_heir({}, "aa", here));
  CHECK_FALSE(pick_heir({run("aa", true, here, 5)}, "aa", here));            // itself
  CHECK_FALSE(pick_heir({run("bb", false, here, 5)}, "aa", here));           // dead
  CHECK_FALSE(pick_heir({run("bb", true, {"net:[200]", 9}, 5)}, "aa", here));  // another namespace
  CHECK_FALSE(pick_heir({run("bb", true, {"net:[100]", 3}, 5)}, "aa", here));  // the inode reused
  CHECK_FALSE(pick_heir({run("bb", true, {"", std::nullopt}, 5)}, "aa", here));  // unknown
  CHECK(pick_heir({run("bb", true, {"net:[100]", std::nullopt}, 5)}, "aa", here) == "bb");  // an old record
  CHECK(pick_heir({run("bb", true, here, 5), run("cc", true, here, 9), run("dd", false, here, 20)}, "aa", here) ==
        "cc");
  CHECK(pick_heir({run("dd", true, here, 9), run("cc", true, here, 9)}, "aa", here) == "cc");
}

TEST_CASE("what a run was handed is what its record holds beyond its own failures", "[rootful-state]") {
  const host_change table = nft_table{"inet", "netpen_1"};
  const host_change other = sysctl{"net/ipv4/conf/eth1/forwarding", "0"};
  CHECK(inherited_indexes({}, {}).empty());
  CHECK(inherited_indexes({table}, {table}).empty());
  CHECK(inherited_indexes({table, uplink_forwarding}, {table}) == std::vector<std::size_t>{1});
  CHECK(inherited_indexes({uplink_forwarding, other}, {}) == std::vector<std::size_t>{0, 1});
  // A failed change accounts for one entry only: the same change handed over again is still to undo.
  CHECK(inherited_indexes({uplink_forwarding, uplink_forwarding}, {uplink_forwarding}) ==
        std::vector<std::size_t>{1});
}

TEST_CASE("the state lock shuts other processes out and is re-entrant within one", "[rootful-state]") {
  scratch_root tmp;
  REQUIRE_FALSE(tmp.path.empty());
  {
    auto outer = state_lock::acquire(tmp.path);
    REQUIRE(outer);
    CHECK((fs::status(tmp.path / ".lock").permissions() & fs::perms::all) ==
          (fs::perms::owner_read | fs::perms::owner_write));
    {
      auto inner = state_lock::acquire(tmp.path);  // a run_state write inside a handover
      REQUIRE(inner);
      CHECK_FALSE(another_process_can_lock(tmp.path));
    }
    CHECK_FALSE(another_process_can_lock(tmp.path));  // still held by the outer one
    auto moved = std::move(*outer);
    CHECK_FALSE(another_process_can_lock(tmp.path));
  }
  CHECK(another_process_can_lock(tmp.path));
  CHECK_FALSE(state_lock::acquire(tmp.path / "absent"));  // never creates the root
  CHECK(list_runs(tmp.path).empty());                      // the lock file is not a run
}

TEST_CASE("a run hands a shared sysctl to a live run, which undoes it at its end", "[rootful-undo]") {
  scratch_root tmp;
  REQUIRE_FALSE(tmp.path.empty());
  // Noise: a dead run and a live run of another namespace never inherit.
  auto dead = dead_record("dd0000");
  dead.created_unix += 100;
  REQUIRE(run_state::create(tmp.path, dead));
  auto elsewhere = live_record("ee0000", 1700000200);
  elsewhere.netns = "net:[1]";
  REQUIRE(run_state::create(tmp.path, elsewhere));

  auto a = run_state::create(tmp.path, live_record("aa1111"));
  auto b = run_state::create(tmp.path, live_record("bb2222"));
  REQUIRE(a);
  REQUIRE(b);
  recording_undo undo_a, undo_b;
  {
    guard_stack guard_b(*b, undo_b);
    REQUIRE(guard_b.push(veth{"npbb2222"}));  // saw eth0 forwarding on: records nothing for it
    {
      guard_stack guard_a(*a, undo_a);
      REQUIRE(guard_a.push(veth{"npaa1111"}));
      REQUIRE(guard_a.push(uplink_forwarding));
      REQUIRE(guard_a.push(nft_table{"inet", "netpen_aa1111"}));
      guard_a.unwind();
      CHECK(guard_a.failures().empty());
    }
    // A ended first: eth0 forwarding was not written back; B inherited it.
    CHECK(undo_a.undone == std::vector<host_change>{nft_table{"inet", "netpen_aa1111"}, veth{"npaa1111"}});
    CHECK_FALSE(fs::exists(tmp.path / "aa1111"));
    CHECK(on_disk(tmp.path / "bb2222") == std::vector<host_change>{veth{"npbb2222"}, uplink_forwarding});
    CHECK(on_disk(tmp.path / "ee0000").empty());
    CHECK(on_disk(tmp.path / "dd0000").empty());
    REQUIRE(guard_b.push(nft_table{"inet", "netpen_bb2222"}));  // B's later writes keep what it was handed
    CHECK(on_disk(tmp.path / "bb2222").size() == 3);
  }
  // B, the last run here, writes it back, in the order of its record.
  CHECK(undo_b.undone ==
        std::vector<host_change>{nft_table{"inet", "netpen_bb2222"}, uplink_forwarding, veth{"npbb2222"}});
  CHECK_FALSE(fs::exists(tmp.path / "bb2222"));
}

TEST_CASE("a sysctl found on is netpen's when a live run here holds it", "[rootful-state]") {
  scratch_root tmp;
  REQUIRE_FALSE(tmp.path.empty());
  const auto path = uplink_forwarding.path;
  CHECK_FALSE(sysctl_held_by_a_run(tmp.path, path));  // no run: the host's own setting
  const auto dead = dead_record("dd0001");
  auto dead_state = run_state::create(tmp.path, dead);
  REQUIRE(dead_state);
  REQUIRE(dead_state->record_intent(uplink_forwarding));
  auto elsewhere = live_record("ee0001");
  elsewhere.netns = "net:[1]";
  auto elsewhere_state = run_state::create(tmp.path, elsewhere);
  REQUIRE(elsewhere_state);
  REQUIRE(elsewhere_state->record_intent(uplink_forwarding));
  CHECK_FALSE(sysctl_held_by_a_run(tmp.path, path));  // a dead run, another namespace
  auto live = run_state::create(tmp.path, live_record("aa0001"));
  REQUIRE(live);
  REQUIRE(live->record_intent(nft_table{"inet", "netpen_aa0001"}));
  CHECK_FALSE(sysctl_held_by_a_run(tmp.path, path));  // live, but holds something else
  REQUIRE(live->record_intent(uplink_forwarding));
  CHECK(sysctl_held_by_a_run(tmp.path, path));
  CHECK_FALSE(sysctl_held_by_a_run(tmp.path, "net/ipv4/conf/eth9/forwarding"));
}

TEST_CASE("a change handed over while a run unwinds is undone before its record goes", "[rootful-undo]") {
  scratch_root tmp;
  REQUIRE_FALSE(tmp.path.empty());
  auto a = run_state::create(tmp.path, live_record("aa3333"));
  REQUIRE(a);
  recording_undo undo;
  // While A undoes its veth, a run that is gone by now hands eth0 to it.
  undo.on_undo = [&](const host_change& c) {
    if (c != host_change{veth{"npaa3333"}}) return;
    auto again = run_state::load(tmp.path / "aa3333");
    REQUIRE(again);
    REQUIRE(again->record_intent(uplink_forwarding));
  };
  {
    guard_stack guard(*a, undo);
    REQUIRE(guard.push(veth{"npaa3333"}));
  }
  CHECK(undo.undone == std::vector<host_change>{veth{"npaa3333"}, uplink_forwarding});
  CHECK_FALSE(fs::exists(tmp.path / "aa3333"));
}

TEST_CASE("cleanup hands a dead run's shared sysctl to a live run in this namespace", "[rootful-cleanup]") {
  scratch_root tmp;
  REQUIRE_FALSE(tmp.path.empty());
  const auto killed = dead_record("cc4444");
  {
    auto st = run_state::create(tmp.path, killed);
    REQUIRE(st);
    REQUIRE(st->record_intent(veth{"npcc4444"}));
    REQUIRE(st->record_intent(sysctl{"net/ipv4/conf/npcc4444/forwarding", "0"}));
    REQUIRE(st->record_intent(uplink_forwarding));
  }
  auto live = run_state::create(tmp.path, live_record("ff5555"));
  REQUIRE(live);
  recording_undo undo;

  cleanup_report dry;
  const auto dry_text = captured([&](std::FILE* out) { dry = cleanup_leftovers(tmp.path, undo, true, out); });
  INFO(dry_text);
  CHECK(undo.undone.empty());
  CHECK(dry.changes_handed_over == 1);
  CHECK(dry.changes_undone == 2);
  CHECK(dry_text.find("  would hand over to run ff5555 (still running): sysctl net.ipv4.conf.eth0.forwarding back to 0\n") !=
        std::string::npos);
  CHECK(dry_text.find("  would undo: sysctl net.ipv4.conf.npcc4444.forwarding back to 0\n") != std::string::npos);

  cleanup_report report;
  const auto text = captured([&](std::FILE* out) { report = cleanup_leftovers(tmp.path, undo, false, out); });
  INFO(text);
  CHECK(report.ok());
  CHECK(report.cleaned == std::vector<std::string>{"cc4444"});
  CHECK(report.skipped_live == std::vector<std::string>{"ff5555"});
  CHECK(report.changes_handed_over == 1);
  CHECK(report.changes_undone == 2);
  CHECK(text.find("  handed over to run ff5555 (still running): sysctl net.ipv4.conf.eth0.forwarding back to 0\n") !=
        std::string::npos);
  CHECK(undo.undone ==
        std::vector<host_change>{sysctl{"net/ipv4/conf/npcc4444/forwarding", "0"}, veth{"npcc4444"}});
  CHECK_FALSE(fs::exists(tmp.path / "cc4444"));
  CHECK(on_disk(tmp.path / "ff5555") == std::vector<host_change>{uplink_forwarding});

  // The live run is killed too: with no run left here, cleanup writes it back.
  auto now_dead = run_state::load(tmp.path / "ff5555");
  REQUIRE(now_dead);
  auto rec = now_dead->record();
  rec.start_time += 1;  // as if its pid now named another process
  REQUIRE(now_dead->remove());
  REQUIRE(run_state::create(tmp.path, rec));
  undo.undone.clear();
  const auto last = captured([&](std::FILE* out) { report = cleanup_leftovers(tmp.path, undo, false, out); });
  INFO(last);
  CHECK(report.changes_handed_over == 0);
  CHECK(undo.undone == std::vector<host_change>{uplink_forwarding});
  CHECK(list_runs(tmp.path).empty());
}

namespace {

std::string read_value(const std::string& path) { return netpen::backends::read_sysctl(path).value_or(""); }

void write_value(const std::string& path, const char* value) {
  netns_test::expect_ok(netpen::backends::write_sysctl(path, value), "setting " + path);
}

// In a private namespace, a veth stands in for an uplink: its forwarding,
// turned on by run A (off before), stays on when A ends while B runs, and
// is off once B ends; the same through cleanup after A is "killed".
std::string forwarding_outlives_the_first_run() {
  if (std::system("ip link add hdup0 type veth peer name hdup0p 2>/dev/null") != 0)
    return "skip: cannot add a veth pair";
  const std::string path = "net/ipv4/conf/hdup0/forwarding";
  write_value(path, "0");
  netns_test::expect(read_value(path) == "0", "could not turn hdup0's forwarding off");
  char tmpl[] = "/tmp/netpen-handover-ns-XXXXXX";
  netns_test::expect(::mkdtemp(tmpl) != nullptr, "mkdtemp");
  const fs::path root = tmpl;
  auto undo = make_host_undo();
  const auto own = [&](const std::string& id, std::uint64_t start_shift) {
    auto r = netns_test::expect_ok(this_run_record(id, "sleep 30"), "this_run_record");
    r.start_time += start_shift;
    return netns_test::expect_ok(run_state::create(root, r), "creating run " + id);
  };

  auto b = own("bb0001", 0);
  {
    auto a = own("aa0001", 0);
    guard_stack guard(a, *undo);
    netns_test::expect_ok(guard.push(sysctl{path, "0"}), "recording A's change");
    write_value(path, "1");
    guard.unwind();
    netns_test::expect(guard.failures().empty(), "A's unwinding failed");
  }
  netns_test::expect(read_value(path) == "1", "A turned forwarding off while B still runs");
  netns_test::expect(!fs::exists(root / "aa0001"), "A's record is left");
  {
    guard_stack guard(b, *undo);
    guard.unwind();
  }
  netns_test::expect(read_value(path) == "0", "forwarding is " + read_value(path) + " after the last run");
  netns_test::expect(!fs::exists(root / "bb0001"), "B's record is left");

  // A killed run (its start time is not this process's any more) and a live one.
  auto killed = own("aa0002", 1);
  netns_test::expect_ok(killed.record_intent(sysctl{path, "0"}), "recording the killed run's change");
  write_value(path, "1");
  auto live = own("bb0002", 0);
  std::FILE* devnull = std::fopen("/dev/null", "w");
  auto report = cleanup_leftovers(root, *undo, false, devnull);
  netns_test::expect(report.changes_handed_over == 1 && report.ok(), "cleanup did not hand the sysctl over");
  netns_test::expect(read_value(path) == "1", "cleanup turned forwarding off while a run still needs it");
  {
    guard_stack guard(live, *undo);
    guard.unwind();
  }
  std::fclose(devnull);
  netns_test::expect(read_value(path) == "0", "forwarding is " + read_value(path) + " after the live run ended");
  netns_test::expect(list_runs(root).empty(), "records are left");
  std::error_code ec;
  fs::remove_all(root, ec);
  return "";
}

}  // namespace

TEST_CASE("a real uplink's forwarding stays on until the last run ends, in a private namespace", "[rootful-undo][root]") {
  netns_test::check_in_private_netns(forwarding_outlives_the_first_run);
}
