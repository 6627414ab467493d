// Unit tests for the rootless uid/gid map text: map lines, /etc/subuid
// parsing and the newuidmap/newgidmap argument lists.
#include <catch2/catch.hpp>

#include "backends/rootless/uid_map.hpp"

using namespace netpen::backends::rootless;

TEST_CASE("map lines are 'inside outside count' with a newline", "[rootless]") {
  CHECK(map_line(0, 1000, 1) == "0 1000 1\n");
  CHECK(map_line(995, 995, 1) == "995 995 1\n");
}

TEST_CASE("subuid ranges are found by user name or numeric id", "[rootless]") {
  const std::string text =
      "# comment\n"
      "alice:100000:65536\n"
      "netpen-test:231072:65536\n"
      "1234:300000:1000\n";
  auto by_name = parse_subid(text, "netpen-test", 995);
  REQUIRE(by_name);
  CHECK(by_name->start == 231072);
  CHECK(by_name->count == 65536);
  auto by_id = parse_subid(text, "nobody-here", 1234);
  REQUIRE(by_id);
  CHECK(by_id->start == 300000);
  CHECK(by_id->count == 1000);
  CHECK_FALSE(parse_subid(text, "bob", 42));
}

TEST_CASE("malformed subuid lines are skipped", "[rootless]") {
  const std::string text =
      "alice\n"
      "alice:abc:10\n"
      "alice:10:0\n"
      "alice:10:20x\n"
      "alice:500:7";  // no trailing newline
  auto r = parse_subid(text, "alice", 1);
  REQUIRE(r);
  CHECK(r->start == 500);
  CHECK(r->count == 7);
  CHECK_FALSE(parse_subid("", "alice", 1));
}

TEST_CASE("helper argv maps self, then subordinate ids beside it", "[rootless]") {
  using v = std::vector<std::string>;
  CHECK(helper_argv("newuidmap", 42, 0, 1000, std::nullopt) == v{"newuidmap", "42", "0", "1000", "1"});
  CHECK(helper_argv("newuidmap", 42, 0, 1000, id_range{231072, 65536}) ==
        v{"newuidmap", "42", "0", "1000", "1", "1", "231072", "65536"});
  // Ranges larger than 64Ki ids are capped.
  CHECK(helper_argv("newgidmap", 7, 0, 5, id_range{100000, 1000000}).back() == "65536");
  // keep_uid: self maps to itself and the extra ids go below it.
  CHECK(helper_argv("newuidmap", 42, 995, 995, id_range{231072, 65536}) ==
        v{"newuidmap", "42", "995", "995", "1", "0", "231072", "995"});
}

TEST_CASE("id maps: least privilege keeps the invoking ids, --map-root makes them 0", "[rootless]") {
  // An ordinary user, by default: itself inside, one line each.
  auto user = plan_id_maps(1000, 1001, true, false);
  CHECK(user.uid_map == "1000 1000 1\n");
  CHECK(user.gid_map == "1001 1001 1\n");
  CHECK(user.inside_uid == 1000);
  CHECK(user.inside_gid == 1001);
  CHECK(user.deny_setgroups);
  // The same user with --map-root: uid and gid 0 inside.
  auto mapped = plan_id_maps(1000, 1001, false, false);
  CHECK(mapped.uid_map == "0 1000 1\n");
  CHECK(mapped.gid_map == "0 1001 1\n");
  CHECK(mapped.inside_uid == 0);
  CHECK(mapped.deny_setgroups);
  // Root stays uid 0 either way (its own uid); capabilities are what differ.
  CHECK(plan_id_maps(0, 0, true, false).uid_map == "0 0 1\n");
  CHECK(plan_id_maps(0, 0, false, false).uid_map == "0 0 1\n");
  // Root's --exec-group sandbox: every id onto itself, setgroups allowed.
  for (bool keep : {true, false}) {
    auto all = plan_id_maps(0, 0, keep, true);
    CHECK(all.uid_map == "0 0 4294967295\n");
    CHECK(all.gid_map == "0 0 4294967295\n");
    CHECK_FALSE(all.deny_setgroups);
  }
}
