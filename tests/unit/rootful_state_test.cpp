// Unit tests for the rootful run's record of host changes: the change
// values and their JSON, run_state on disk (modes, atomic rewrite, intent
// before change, the netns cookie), and the guard stack's unwinding with a
// fake undo. `netpen cleanup`: rootful_cleanup_test.cpp.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "backends/rootful/guard_stack.hpp"
#include "backends/rootful/run_state.hpp"
#include "tests/unit/rootful_state_test_util.hpp"

using namespace netpen::backends::rootful;
using namespace rootful_state_test;

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
