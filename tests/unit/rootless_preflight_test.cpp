// Unit tests for the rootless preflight: each missing host feature yields
// its error code and a message that says how to fix it.
#include <catch2/catch.hpp>

#include <cerrno>

#include "backends/rootless/preflight.hpp"

using namespace netpen::backends::rootless;

namespace {
host_facts user_facts() {
  host_facts f;
  f.uid = 1000;
  f.max_user_namespaces = 15000;
  return f;
}
bool mentions(const netpen::result<void>& r, const std::string& text) {
  return !r && r.error().message.find(text) != std::string::npos;
}
}  // namespace

TEST_CASE("a ready host passes preflight", "[rootless]") { CHECK(evaluate_preflight(user_facts())); }

TEST_CASE("missing namespaces are named", "[rootless]") {
  auto f = user_facts();
  f.ns_pid = false;
  f.ns_user = false;
  auto r = evaluate_preflight(f);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == "namespaces-unsupported");
  CHECK(mentions(r, "user, pid namespaces"));
}

TEST_CASE("disabled user namespaces point at the sysctl", "[rootless]") {
  auto f = user_facts();
  f.max_user_namespaces = 0;
  auto r = evaluate_preflight(f);
  CHECK(r.error().code == "userns-disabled");
  CHECK(mentions(r, "sysctl -w user.max_user_namespaces="));

  f = user_facts();
  f.unprivileged_userns_clone = 0;
  r = evaluate_preflight(f);
  CHECK(r.error().code == "userns-disabled");
  CHECK(mentions(r, "kernel.unprivileged_userns_clone=1"));
  f.uid = 0;  // root is not subject to the Debian switch
  CHECK(evaluate_preflight(f));
}

TEST_CASE("the Ubuntu AppArmor restriction is explained", "[rootless]") {
  auto f = user_facts();
  f.apparmor_restrict_userns = 1;
  auto r = evaluate_preflight(f);
  CHECK(r.error().code == "userns-apparmor");
  CHECK(mentions(r, "AppArmor"));
  CHECK(mentions(r, "kernel.apparmor_restrict_unprivileged_userns=0"));
  f.apparmor_restrict_userns = 0;
  CHECK(evaluate_preflight(f));
}

TEST_CASE("/dev/net/tun problems say how to fix them", "[rootless]") {
  auto f = user_facts();
  f.tun_exists = false;
  auto r = evaluate_preflight(f);
  CHECK(r.error().code == "tun-missing");
  CHECK(mentions(r, "modprobe tun"));

  f = user_facts();
  f.tun_open_errno = EACCES;
  r = evaluate_preflight(f);
  CHECK(r.error().code == "tun-permission");
  CHECK(mentions(r, "sudo chmod 0666 /dev/net/tun"));
  CHECK(mentions(r, "udev rule"));

  f.tun_open_errno = ENXIO;
  r = evaluate_preflight(f);
  CHECK(r.error().code == "tun-unavailable");
}
