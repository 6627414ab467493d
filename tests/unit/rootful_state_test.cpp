// Unit tests for the rootful run's record of host changes: the change
// values and their JSON, run_state on disk (modes, atomic rewrite, intent
// before change), the guard stack's unwinding with a fake undo, and
// `netpen cleanup` over live, dead, corrupt and missing records.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sched.h>
#include <sys/wait.h>
#include <csignal>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "backends/rootful/cleanup.hpp"
#include "backends/rootful/guard_stack.hpp"
#include "backends/rootful/run_state.hpp"
#include "tests/unit/skip.hpp"

using namespace netpen::backends::rootful;
namespace fs = std::filesystem;

namespace {

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

std::vector<host_change> every_kind() {
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

run_record record_for(std::string id, int pid, std::uint64_t start) {
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

std::vector<host_change> changes_on_disk(const fs::path& dir) {
  auto s = run_state::load(dir);
  REQUIRE(s);
  return s->record().changes;
}

// A process that existed and is gone: its pid and start time.
std::pair<int, std::uint64_t> dead_process() {
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

int mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return static_cast<int>(st.st_mode & 07777);
}

}  // namespace

TEST_CASE("every host change survives a JSON round trip", "[rootful-state]") {
  for (const auto& c : every_kind()) {
    const auto j = to_json(c);
    auto back = host_change_from_json(nlohmann::json::parse(j.dump()));
    INFO(j.dump());
    REQUIRE(back);
    CHECK(*back == c);
  }
  CHECK(to_json(host_change{veth{"np1"}}) == nlohmann::json{{"kind", "veth"}, {"name", "np1"}});
}

TEST_CASE("host changes describe themselves in one line", "[rootful-state]") {
  const auto c = every_kind();
  CHECK(describe(c[0]) == "veth np3fa9c1");
  CHECK(describe(c[1]) == "nftables table inet netpen_3fa9c1");
  CHECK(describe(c[2]) == "sysctl net.ipv4.conf.np3fa9c1.forwarding back to 0");
  CHECK(describe(c[3]) == "IPv6 rule priority 2000 fwmark 0x10000/0xff0000 lookup 1000");
  CHECK(describe(c[4]) == "IPv4 routes in table 4242");
  CHECK(describe(sysctl{"net/ipv4/conf/eth0.100/rp_filter", "2"}) == "sysctl net.ipv4.conf.eth0/100.rp_filter back to 2");
}

TEST_CASE("malformed or dangerous host changes are refused", "[rootful-state]") {
  for (const host_change& bad : std::vector<host_change>{
           veth{""}, veth{"a-name-longer-than-15"}, veth{"../x"}, veth{"a b"},
           nft_table{"inet6", "t"}, nft_table{"inet", "t; flush ruleset"}, nft_table{"inet", ""},
           sysctl{"../../etc/passwd", "x"}, sysctl{"/net/ipv4/ip_forward", "1"}, sysctl{"net//x", "1"},
           sysctl{"net/ipv4/./ip_forward", "1"}, route_table{ip_family::ipv4, 254}, route_table{ip_family::ipv6, 255},
           route_table{ip_family::ipv4, 0}, ip_rule{ip_family::ipv4, 1, 1, 253, 100}, ip_rule{ip_family::ipv4, 1, 1, 100, 0}}) {
    INFO(to_json(bad).dump());
    CHECK_FALSE(validate(bad));
    CHECK_FALSE(host_change_from_json(to_json(bad)));
  }
  for (const char* text : {R"({"kind":"veth"})", R"({"kind":"link","name":"x"})", R"([1])",
                           R"({"kind":"route_table","family":"ipv4","table":-5})",
                           R"({"kind":"route_table","family":"ipv4","table":4294967296})",
                           R"({"kind":"route_table","family":"ipx","table":100})",
                           R"({"kind":"ip_rule","family":"ipv4","fwmark":"1","mask":1,"table":100,"priority":5})"}) {
    INFO(text);
    auto r = host_change_from_json(nlohmann::json::parse(text));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == "bad-state");
  }
}

TEST_CASE("the start time is field 22 of /proc/<pid>/stat", "[rootful-state]") {
  const std::string line =
      "4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10 18446744073709551615";
  auto t = parse_start_time(line);
  REQUIRE(t);
  CHECK(*t == 987654);
  CHECK_FALSE(parse_start_time("4242 (a) S 1 2"));
  CHECK_FALSE(parse_start_time("no parenthesis"));
  auto self = process_start_time(static_cast<int>(::getpid()));
  REQUIRE(self);
  CHECK(*self > 0);
  CHECK_FALSE(process_start_time(-1));
}

TEST_CASE("run_state writes a private record and rewrites it on every change", "[rootful-state]") {
  temp_dir tmp;
  const fs::path root = tmp.path / "netpen";  // created on demand
  auto rec = this_run_record("3fa9c1", "curl example.com");
  REQUIRE(rec);
  CHECK(rec->pid == static_cast<int>(::getpid()));
  CHECK(is_alive(*rec));
  auto state = run_state::create(root, *rec);
  REQUIRE(state);
  CHECK(state->dir() == root / "3fa9c1");
  CHECK(mode_of(root) == 0700);
  CHECK(mode_of(state->dir()) == 0700);
  CHECK(mode_of(state->dir() / "state.json") == 0600);
  CHECK_FALSE(fs::exists(state->dir() / "state.json.tmp"));

  std::ifstream in(state->dir() / "state.json");
  const auto j = nlohmann::json::parse(in);
  CHECK(j.at("schema_version") == 1);
  CHECK(j.at("id") == "3fa9c1");
  CHECK(j.at("pid") == rec->pid);
  CHECK(j.at("pid_start_time") == rec->start_time);
  CHECK(j.at("command") == "curl example.com");
  CHECK(j.at("netns") == current_netns());
  REQUIRE(rec->netns_cookie.has_value());  // kernel >= 5.14
  CHECK(rec->netns_cookie == current_netns_cookie());
  CHECK(j.at("netns_cookie") == *rec->netns_cookie);
  CHECK(j.at("changes").empty());

  for (const auto& c : every_kind()) REQUIRE(state->record_intent(c));
  CHECK(changes_on_disk(state->dir()) == every_kind());
  REQUIRE(state->forget(1));
  auto expected = every_kind();
  expected.erase(expected.begin() + 1);
  CHECK(changes_on_disk(state->dir()) == expected);
  CHECK_FALSE(state->forget(99));

  auto again = run_state::create(root, *rec);  // the same id twice
  REQUIRE_FALSE(again);
  CHECK(again.error().code == "run-exists");
  CHECK_FALSE(run_state::create(root, record_for("../x", 1, 1)));

  auto loaded = run_state::load(state->dir());
  REQUIRE(loaded);
  CHECK(loaded->record().command == "curl example.com");
  CHECK(loaded->record().start_time == rec->start_time);

  REQUIRE(state->remove());
  CHECK_FALSE(fs::exists(root / "3fa9c1"));
  CHECK_FALSE(state->record_intent(veth{"np1"}));
  CHECK(list_runs(root).empty());
}

TEST_CASE("a record that others may write or that lies about its id is refused", "[rootful-state]") {
  temp_dir tmp;
  auto state = run_state::create(tmp.path, record_for("abc123", 1, 1));
  REQUIRE(state);
  fs::permissions(state->dir() / "state.json", fs::perms::others_write, fs::perm_options::add);
  CHECK_FALSE(run_state::load(state->dir()));
  fs::permissions(state->dir() / "state.json", fs::perms::others_write, fs::perm_options::remove);
  CHECK(run_state::load(state->dir()));
  fs::rename(state->dir(), tmp.path / "other1");
  auto moved = run_state::load(tmp.path / "other1");
  REQUIRE_FALSE(moved);
  CHECK(moved.error().message.find("not the directory's name") != std::string::npos);
}

TEST_CASE("the guard stack records intent first and unwinds in reverse", "[rootful-state]") {
  temp_dir tmp;
  auto state = run_state::create(tmp.path, record_for("aa0001", static_cast<int>(::getpid()), 1));
  REQUIRE(state);
  const fs::path dir = state->dir();
  fake_undo undo;
  // While each change is undone, the record on disk still lists it.
  undo.on_undo = [&](const host_change& c) {
    const auto on_disk = changes_on_disk(dir);
    CHECK(std::find(on_disk.begin(), on_disk.end(), c) != on_disk.end());
  };
  {
    guard_stack guard(*state, undo);
    for (const auto& c : every_kind()) {
      REQUIRE(guard.push(c));
      // Intent on disk before the caller makes the change.
      CHECK(changes_on_disk(dir).back() == c);
    }
    CHECK_FALSE(guard.push(route_table{ip_family::ipv4, 254}));  // never the main table
    guard.unwind();
    CHECK(guard.unwound());
    CHECK(guard.failures().empty());
    guard.unwind();  // idempotent
  }
  auto reversed = every_kind();
  std::reverse(reversed.begin(), reversed.end());
  CHECK(undo.undone == reversed);
  CHECK_FALSE(fs::exists(dir));
}

TEST_CASE("the guard stack keeps the record when an undo fails, and its destructor unwinds", "[rootful-state]") {
  temp_dir tmp;
  auto state = run_state::create(tmp.path, record_for("aa0002", static_cast<int>(::getpid()), 1));
  REQUIRE(state);
  fake_undo undo;
  undo.refuse = {"nftables table inet netpen_3fa9c1"};
  std::vector<failed_undo> failures;
  {
    guard_stack guard(*state, undo);
    for (const auto& c : every_kind()) REQUIRE(guard.push(c));
    guard.unwind();
    failures = guard.failures();
  }
  REQUIRE(failures.size() == 1);
  CHECK(failures[0].change == every_kind()[1]);
  CHECK(failures[0].why.code == "busy");
  CHECK(undo.undone.size() == 4);
  REQUIRE(fs::exists(state->dir()));
  CHECK(changes_on_disk(state->dir()) == std::vector<host_change>{every_kind()[1]});

  // Not unwound explicitly: the destructor does it.
  auto second = run_state::create(tmp.path, record_for("aa0003", static_cast<int>(::getpid()), 1));
  REQUIRE(second);
  fake_undo undo2;
  {
    guard_stack guard(*second, undo2);
    REQUIRE(guard.push(veth{"np1"}));
    REQUIRE(guard.push(sysctl{"net/ipv4/ip_forward", "0"}));
  }
  CHECK(undo2.undone == std::vector<host_change>{sysctl{"net/ipv4/ip_forward", "0"}, veth{"np1"}});
  CHECK_FALSE(fs::exists(tmp.path / "aa0003"));
}

TEST_CASE("cleanup skips live runs, undoes dead ones, leaves corrupt ones", "[rootful-state]") {
  temp_dir tmp;
  const auto self = this_run_record("11aa11", "sleep 100");
  REQUIRE(self);
  auto live = run_state::create(tmp.path, *self);
  REQUIRE(live);
  REQUIRE(live->record_intent(veth{"np11aa11"}));

  const auto [dead_pid, dead_start] = dead_process();
  auto dead = run_state::create(tmp.path, record_for("22bb22", dead_pid, dead_start));
  REQUIRE(dead);
  for (const auto& c : every_kind()) REQUIRE(dead->record_intent(c));
  // This process's pid with another start time: the pid was reused.
  auto reused = run_state::create(tmp.path, record_for("33cc33", static_cast<int>(::getpid()), self->start_time + 1));
  REQUIRE(reused);
  REQUIRE(reused->record_intent(veth{"np33cc33"}));

  fs::create_directory(tmp.path / "44dd44");
  std::ofstream(tmp.path / "44dd44" / "state.json") << "{not json";
  fs::permissions(tmp.path / "44dd44", fs::perms::owner_all, fs::perm_options::replace);
  fs::create_directory(tmp.path / "55ee55");  // no state.json yet (a run starting)
  std::ofstream(tmp.path / "stray-file") << "x";

  SECTION("dry run lists and changes nothing") {
    fake_undo undo;
    captured_output out;
    const auto report = cleanup_leftovers(tmp.path, undo, true, out.file);
    const std::string text = out.text();
    INFO(text);
    CHECK(undo.undone.empty());
    CHECK(report.cleaned == std::vector<std::string>{"22bb22", "33cc33"});
    CHECK(report.skipped_live == std::vector<std::string>{"11aa11"});
    CHECK(report.unreadable == std::vector<std::string>{"44dd44", "55ee55"});
    CHECK(report.changes_undone == 6);
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
    expected.push_back(veth{"np33cc33"});
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
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  const pid_t holder = ::fork();
  if (holder == 0) {
    // Reports 'y' and the new namespace's cookie, or 'n'.
    char msg[1 + sizeof(std::uint64_t)] = {'n'};
    if (::unshare(CLONE_NEWNET) == 0) {
      if (const auto cookie = current_netns_cookie()) {
        msg[0] = 'y';
        std::memcpy(msg + 1, &*cookie, sizeof(*cookie));
      }
    }
    (void)::write(ready[1], msg, sizeof(msg));
    ::pause();
    ::_exit(0);
  }
  char msg[1 + sizeof(std::uint64_t)] = {'n'};
  const bool got = ::read(ready[0], msg, sizeof(msg)) == static_cast<ssize_t>(sizeof(msg));
  ::close(ready[0]);
  ::close(ready[1]);
  std::uint64_t held_cookie = 0;
  std::memcpy(&held_cookie, msg + 1, sizeof(held_cookie));
  std::error_code ec;
  const auto held = fs::read_symlink(fmt::format("/proc/{}/ns/net", holder), ec).string();

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
  ::kill(holder, SIGKILL);
  ::waitpid(holder, nullptr, 0);
  REQUIRE(got);
  REQUIRE(msg[0] == 'y');
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

TEST_CASE("a record's netns cookie is optional and must be a cookie", "[rootful-state]") {
  auto rec = record_for("cc0011", 42, 4242);
  rec.netns_cookie = 0xfffffffffffffff0ULL;
  auto j = to_json(rec);
  CHECK(j.at("netns_cookie") == 0xfffffffffffffff0ULL);
  auto back = run_record_from_json(nlohmann::json::parse(j.dump()));
  REQUIRE(back);
  CHECK(back->netns_cookie == 0xfffffffffffffff0ULL);

  rec.netns_cookie.reset();
  j = to_json(rec);
  CHECK_FALSE(j.contains("netns_cookie"));  // as records were before there was one
  back = run_record_from_json(j);
  REQUIRE(back);
  CHECK_FALSE(back->netns_cookie.has_value());
  j["netns_cookie"] = nullptr;
  REQUIRE(run_record_from_json(j));

  for (const char* bad : {"0", "-5", "\"12\"", "1.5", "[1]"}) {
    INFO(bad);
    j["netns_cookie"] = nlohmann::json::parse(bad);
    auto r = run_record_from_json(j);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == "bad-state");
  }
  j["netns_cookie"] = 12;
  back = run_record_from_json(j);
  REQUIRE(back);
  CHECK(back->netns_cookie == 12u);
}
