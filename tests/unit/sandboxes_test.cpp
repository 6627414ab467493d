// [sandboxes] the pure pieces of persistent sandboxes: name validation, the
// record format, the exec and spawn request codec, the control words and
// `netpen list`'s text and JSON.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "app/sandboxes/control_messages.hpp"
#include "app/sandboxes/sandbox_name.hpp"
#include "app/sandboxes/sandbox_record.hpp"
#include "backends/common/spawn_request.hpp"

using namespace netpen::app::sandboxes;
using namespace netpen::backends;

TEST_CASE("sandbox names are [a-z0-9][a-z0-9_-]{0,31}", "[sandboxes]") {
  for (const char* good : {"a", "0", "box1", "my-box_2", "abcdefghijklmnopqrstuvwxyz012345"}) {
    INFO(good);
    CHECK(is_sandbox_name(good));
  }
  for (const char* bad : {"", "-a", "_a", "Box", "a.b", "a/b", "..", "a b", "é", "abcdefghijklmnopqrstuvwxyz0123456"}) {
    INFO(bad);
    CHECK_FALSE(is_sandbox_name(bad));
  }
}

namespace {

sandbox_record sample() {
  sandbox_record r;
  r.name = "box1";
  r.backend = "rootful";
  r.owner_uid = 1000;
  r.owner = "alice";
  r.created_unix = 1764950400;  // 2025-12-05T16:00:00Z
  r.daemon_pid = 4242;
  r.init_pid = 4243;
  r.policy = "deny 10.0.0.0/8";
  r.exec_group = "agents";
  r.rootful_run = "3fa9c1";
  return r;
}

}  // namespace

TEST_CASE("the sandbox record round-trips", "[sandboxes]") {
  const auto r = sample();
  auto back = parse_record(render_record(r));
  REQUIRE(back);
  CHECK(back->name == r.name);
  CHECK(back->backend == r.backend);
  CHECK(back->owner_uid == r.owner_uid);
  CHECK(back->owner == r.owner);
  CHECK(back->created_unix == r.created_unix);
  CHECK(back->daemon_pid == r.daemon_pid);
  CHECK(back->init_pid == r.init_pid);
  CHECK(back->policy == r.policy);
  CHECK(back->exec_group == r.exec_group);
  CHECK(back->rootful_run == r.rootful_run);
  auto no_group = sample();
  no_group.exec_group.reset();
  auto back2 = parse_record(render_record(no_group));
  REQUIRE(back2);
  CHECK_FALSE(back2->exec_group);
}

TEST_CASE("a corrupt or foreign record is an error", "[sandboxes]") {
  CHECK_FALSE(parse_record(""));
  CHECK_FALSE(parse_record("{"));
  CHECK_FALSE(parse_record(R"({"schema_version": 2})"));
  auto j = nlohmann::json::parse(render_record(sample()));
  j["backend"] = "other";
  CHECK_FALSE(parse_record(j.dump()));
  j = nlohmann::json::parse(render_record(sample()));
  j.erase("daemon_pid");
  CHECK_FALSE(parse_record(j.dump()));
}

TEST_CASE("exec requests round-trip", "[sandboxes]") {
  exec_request r;
  r.argv = {"sh", "-c", "echo 'a b'; exit 7", ""};
  r.env = {"PATH=/usr/bin:/bin", "EMPTY=", "X=a=b"};
  r.cwd = "/home/alice/some dir";
  r.tty = true;
  auto back = decode_exec_request(encode_exec_request(r));
  REQUIRE(back);
  CHECK(back->argv == r.argv);
  CHECK(back->env == r.env);
  CHECK(back->cwd == r.cwd);
  CHECK(back->tty);
}

TEST_CASE("spawn requests round-trip, with and without an identity", "[sandboxes]") {
  spawn_request s;
  s.id = 12;
  s.exec.argv = {"id"};
  s.exec.cwd = "/";
  auto back = decode_spawn_request(encode_spawn_request(s));
  REQUIRE(back);
  CHECK(back->id == 12);
  CHECK_FALSE(back->identity);
  CHECK(back->exec.argv == s.exec.argv);
  command_identity who;
  who.uid = 994;
  who.gid = 994;
  who.groups = {994, 27};
  who.user = "netpen-test";
  who.home = "/home/netpen-test";
  s.identity = who;
  back = decode_spawn_request(encode_spawn_request(s));
  REQUIRE(back);
  REQUIRE(back->identity);
  CHECK(back->identity->uid == 994);
  CHECK(back->identity->groups == std::vector<gid_t>{994, 27});
  CHECK(back->identity->user == "netpen-test");
  CHECK(back->identity->home == "/home/netpen-test");
}

TEST_CASE("malformed exec and spawn requests are refused", "[sandboxes]") {
  exec_request r;
  r.argv = {"true"};
  const std::string wire = encode_exec_request(r);
  CHECK_FALSE(decode_exec_request(""));
  CHECK_FALSE(decode_exec_request(wire.substr(0, wire.size() - 1)));  // last field unterminated
  CHECK_FALSE(decode_exec_request(wire + "extra"));
  CHECK_FALSE(decode_spawn_request(wire));  // the wrong tag
  exec_request empty;
  CHECK_FALSE(decode_exec_request(encode_exec_request(empty)));  // no argv
  std::string huge_count = std::string("exec-v1") + '\0' + "0" + '\0' + "/" + '\0' + "99999999" + '\0';
  CHECK_FALSE(decode_exec_request(huge_count));
  spawn_request s;
  s.id = 5;
  s.exec.argv = {"true"};
  s.identity = command_identity{};
  std::string sw = encode_spawn_request(s);
  const auto at = sw.find(std::string("1") + '\0' + "0" + '\0');  // identity flag, then uid 0
  REQUIRE(at != std::string::npos);
  sw.replace(at + 2, 1, "99999999999");  // uid out of range
  CHECK_FALSE(decode_spawn_request(sw));
}

TEST_CASE("control words split into word and argument", "[sandboxes]") {
  CHECK(split_word("exit 143").word == "exit");
  CHECK(split_word("exit 143").argument == "143");
  CHECK(split_word("error no sandbox named 'x'").argument == "no sandbox named 'x'");
  CHECK(split_word("destroyed").word == "destroyed");
  CHECK(split_word("destroyed").argument.empty());
  CHECK(number_of("143") == 143);
  CHECK_FALSE(number_of("14x"));
  CHECK_FALSE(number_of(""));
}

TEST_CASE("netpen list renders text and JSON", "[sandboxes]") {
  CHECK(render_list_text({}) == "no sandboxes\n");
  CHECK(render_list_json({}) == "[]\n");
  listed_sandbox live{sample(), true, 2U};
  auto dead_record = sample();
  dead_record.name = "a-much-longer-name";
  dead_record.backend = "rootless";
  dead_record.policy = "none";
  dead_record.exec_group.reset();
  listed_sandbox dead{dead_record, false, std::nullopt};
  const std::string text = render_list_text({live, dead});
  CHECK(text ==
        "NAME                STATE  BACKEND   OWNER  CREATED               PROCESSES  POLICY\n"
        "box1                live   rootful   alice  2025-12-05T16:00:00Z          2  deny 10.0.0.0/8\n"
        "a-much-longer-name  dead   rootless  alice  2025-12-05T16:00:00Z          -  none\n");
  const auto j = nlohmann::json::parse(render_list_json({live, dead}));
  REQUIRE(j.size() == 2);
  CHECK(j[0]["name"] == "box1");
  CHECK(j[0]["state"] == "live");
  CHECK(j[0]["processes"] == 2);
  CHECK(j[0]["created"] == "2025-12-05T16:00:00Z");
  CHECK(j[0]["exec_group"] == "agents");
  CHECK(j[0]["daemon_pid"] == 4242);
  CHECK(j[1]["state"] == "dead");
  CHECK(j[1]["processes"].is_null());
  CHECK_FALSE(j[1].contains("exec_group"));
}
