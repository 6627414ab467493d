// Unit tests for the sandbox netns's ping_group_range: the range over the
// gids a gid_map maps.
#include <catch2/catch.hpp>

#include "backends/rootless/netns_sysctls.hpp"

using netpen::backends::rootless::ping_group_range_for;

TEST_CASE("ping_group_range covers exactly the mapped gids", "[rootless]") {
  CHECK(ping_group_range_for("         0       1000          1\n") == "0 0");           // --map-root
  CHECK(ping_group_range_for("      1000       1000          1\n") == "1000 1000");     // least privilege
  CHECK(ping_group_range_for("1000 1000 1\n0 231072 1000\n") == "0 1000");             // newgidmap, extra ids below
  CHECK(ping_group_range_for("0 0 4294967295\n") == "0 2147483647");                   // every id (capped)
  CHECK(ping_group_range_for("") == "1 0");                                            // nothing mapped: empty range
  CHECK(ping_group_range_for("5 5 0\n") == "1 0");
}
