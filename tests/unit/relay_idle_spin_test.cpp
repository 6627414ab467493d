// Unit tests for how long the relay's thread polls before it sleeps.
#include <catch2/catch.hpp>

#include "net/relay/idle_spin.hpp"

using netpen::relay::idle_spin;
using namespace std::chrono_literals;

namespace {
// The same machine seen 16 times: enough for the average to settle.
void settle(idle_spin& s, int runnable, int cpus) {
  for (int i = 0; i < 16; ++i) s.machine_load(runnable, cpus);
}
}  // namespace

TEST_CASE("the first idle period polls for the whole budget", "[relay]") {
  idle_spin s(30us);
  CHECK(s.budget() == 30us);
}

TEST_CASE("an event caught while polling keeps the thread polling", "[relay]") {
  idle_spin s(30us);
  s.idle_ended(12us);
  CHECK(s.budget() == 30us);
  s.idle_ended(30us);
  CHECK(s.budget() == 30us);
}

TEST_CASE("an event soon after the polling ended keeps the thread polling", "[relay]") {
  idle_spin s(30us);
  s.idle_ended(45us);  // slept, but the wake-up came soon: polling pays next time
  CHECK(s.budget() == 30us);
  s.idle_ended(120us);  // recent_factor x max, the last that counts as soon
  CHECK(s.budget() == 30us);
}

TEST_CASE("a long idle period makes the next one block at once", "[relay]") {
  idle_spin s(30us);
  s.idle_ended(121us);
  CHECK(s.budget() == 0us);
  s.idle_ended(5ms);  // sporadic traffic: still no polling
  CHECK(s.budget() == 0us);
}

TEST_CASE("a short sleep brings the polling back", "[relay]") {
  idle_spin s(30us);
  s.idle_ended(2s);
  REQUIRE(s.budget() == 0us);
  s.idle_ended(20us);  // blocked, and woken soon
  CHECK(s.budget() == 30us);
}

TEST_CASE("a zero budget never polls", "[relay]") {
  idle_spin s(0us);
  CHECK(s.budget() == 0us);
  s.idle_ended(0us);
  CHECK(s.budget() == 0us);
  s.idle_ended(1us);
  CHECK(s.budget() == 0us);
}

TEST_CASE("a machine with every CPU wanted blocks at once", "[relay]") {
  idle_spin s(30us);
  settle(s, 5, 2);
  CHECK(s.budget() == 0us);
  CHECK(s.budget_if_free() == 30us);  // so the caller keeps sampling
  s.idle_ended(10us);  // events close together do not override it
  CHECK(s.budget() == 0us);
}

TEST_CASE("one crowded sample among idle ones does not stop the polling", "[relay]") {
  idle_spin s(30us);
  settle(s, 1, 2);
  s.machine_load(4, 2);
  CHECK(s.budget() == 30us);
}

TEST_CASE("polling comes back once the machine has a CPU to spare again", "[relay]") {
  idle_spin s(30us);
  settle(s, 6, 2);
  REQUIRE(s.budget() == 0us);
  int samples = 0;
  while (s.budget() == 0us && samples < 100) {
    s.machine_load(2, 2);  // this thread and one other on 2 CPUs: nobody waits
    ++samples;
  }
  CHECK(s.budget() == 30us);
  CHECK(samples > 1);  // averaged, not the last sample alone
  CHECK(samples < 100);
}
