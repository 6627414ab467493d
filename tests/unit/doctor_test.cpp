// Unit tests for netpen doctor's judges (app/doctor/checks.hpp) and output
// (report.hpp), with made-up hosts: each missing capability is named with
// its exact fix, and only what the backend needs decides the exit status.
#include <catch2/catch.hpp>

#include <cerrno>

#include <nlohmann/json.hpp>

#include "app/doctor/checks.hpp"
#include "app/doctor/report.hpp"

using namespace netpen::app::doctor;

namespace {

namespace_probe all_worked() {
  return namespace_probe{true, 0, 0, 0, 0, 0};
}

bool has(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("doctor: --root in a chroot", "[doctor]") {
  CHECK(judge_mounts(false).ok);
  CHECK(judge_mounts(std::nullopt).ok);
  const auto r = judge_mounts(true);
  CHECK_FALSE(r.ok);
  CHECK(r.level == need::required);
  CHECK(has(r.fix, "outside the chroot"));
}

TEST_CASE("doctor: user namespaces", "[doctor]") {
  userns_facts f;
  f.probe = all_worked();
  CHECK(judge_user_namespaces(f).ok);

  SECTION("Debian's knob") {
    f.probe.userns = EPERM;
    f.unprivileged_userns_clone = 0;
    const auto r = judge_user_namespaces(f);
    CHECK_FALSE(r.ok);
    CHECK(r.level == need::required);
    CHECK(has(r.detail, "kernel.unprivileged_userns_clone = 0"));
    CHECK(has(r.fix, "sudo sysctl -w kernel.unprivileged_userns_clone=1"));
    CHECK(has(r.fix, "/etc/sysctl.d/"));
  }
  SECTION("in a chroot") {
    f.probe.userns = EPERM;
    f.chrooted = true;
    const auto r = judge_user_namespaces(f);
    CHECK_FALSE(r.ok);
    CHECK(has(r.detail, "chroot"));
    CHECK(has(r.fix, "outside the chroot"));
  }
  SECTION("max_user_namespaces 0") {
    f.probe.userns = ENOSPC;
    f.max_user_namespaces = 0;
    const auto r = judge_user_namespaces(f);
    CHECK_FALSE(r.ok);
    CHECK(has(r.fix, "user.max_user_namespaces=15000"));
  }
  SECTION("Ubuntu's AppArmor restriction: the namespace is made but has no capabilities") {
    f.probe.other_ns = EPERM;
    f.apparmor_restrict_userns = 1;
    const auto r = judge_user_namespaces(f);
    CHECK_FALSE(r.ok);
    CHECK(has(r.detail, "kernel.apparmor_restrict_unprivileged_userns = 1"));
    CHECK(has(r.fix, "userns,"));
    CHECK(has(r.fix, "/etc/apparmor.d/netpen"));
  }
  SECTION("a kernel without the namespaces") {
    f.missing_ns = {"user", "pid"};
    const auto r = judge_user_namespaces(f);
    CHECK_FALSE(r.ok);
    CHECK(has(r.detail, "lacks user, pid namespaces"));
  }
  SECTION("a probe that never reported") {
    f.probe = namespace_probe{};
    CHECK_FALSE(judge_user_namespaces(f).ok);
  }
}

TEST_CASE("doctor: /dev/net/tun", "[doctor]") {
  tun_facts f;
  f.probe = all_worked();
  const auto ok = judge_tun(f);
  CHECK(ok.ok);
  CHECK(has(ok.detail, "mode 0666"));

  SECTION("missing: load the module") {
    f.exists = false;
    const auto r = judge_tun(f);
    CHECK_FALSE(r.ok);
    CHECK(has(r.detail, "/dev/net/tun does not exist"));
    CHECK(has(r.fix, "sudo modprobe tun"));
  }
  SECTION("mode 0600: chmod, or the udev rule") {
    f.mode = 0600;
    f.open_errno = EACCES;
    const auto r = judge_tun(f);
    CHECK_FALSE(r.ok);
    CHECK(r.level == need::required);
    CHECK(has(r.detail, "/dev/net/tun is mode 0600"));
    CHECK(has(r.fix, "sudo chmod 0666 /dev/net/tun"));
    CHECK(has(r.fix, "KERNEL==\"tun\", MODE=\"0666\""));
    CHECK(has(r.fix, "/etc/udev/rules.d/"));
  }
  SECTION("the node without its driver") {
    f.open_errno = ENODEV;
    const auto r = judge_tun(f);
    CHECK_FALSE(r.ok);
    CHECK(has(r.fix, "modprobe tun"));
  }
  SECTION("no tap inside a user namespace") {
    f.probe.tap_create = EPERM;
    const auto r = judge_tun(f);
    CHECK_FALSE(r.ok);
    CHECK(has(r.detail, "TUNSETIFF"));
  }
}

TEST_CASE("doctor: id maps matter only when the direct map fails", "[doctor]") {
  id_map_facts f;
  f.user = "alice";
  f.probe = all_worked();
  auto r = judge_id_maps(f);
  CHECK(r.ok);  // no helper, no range: not needed
  CHECK(r.level == need::info);
  CHECK(has(r.detail, "newuidmap not installed"));

  f.probe.id_map = EPERM;
  r = judge_id_maps(f);
  CHECK_FALSE(r.ok);
  CHECK(r.level == need::required);
  CHECK(r.fix == "sudo apt install uidmap");

  f.newuidmap = {"/usr/bin/newuidmap", false};
  f.newgidmap = {"/usr/bin/newgidmap", true};
  r = judge_id_maps(f);
  CHECK_FALSE(r.ok);
  CHECK(r.fix == "sudo chmod u+s /usr/bin/newuidmap /usr/bin/newgidmap");

  f.newuidmap.privileged = true;
  r = judge_id_maps(f);
  CHECK(r.ok);  // the own id maps without subordinate ranges
  CHECK(has(r.fix, "usermod --add-subuids 100000-165535 --add-subgids 100000-165535 alice"));
}

TEST_CASE("doctor: ping_group_range is a warning", "[doctor]") {
  ping_facts f;
  f.range = std::pair{1L, 0L};
  f.groups = {994};
  f.socket_errno = EACCES;
  auto r = judge_ping(f);
  CHECK_FALSE(r.ok);
  CHECK(r.level == need::recommended);
  CHECK(has(r.detail, "net.ipv4.ping_group_range = 1 0"));
  CHECK(has(r.detail, "994"));
  CHECK(has(r.fix, "net.ipv4.ping_group_range='0 2147483647'"));
  f.root = true;
  CHECK(judge_ping(f).ok);
}

TEST_CASE("doctor: --root checks", "[doctor]") {
  rootful_facts f;
  f.root = true;
  f.queue_rule = true;
  f.tproxy_rule = true;
  f.nfnetlink_queue = module_state::present;
  for (const auto& r : {judge_root(f), judge_nftables(f), judge_nfqueue(f), judge_tproxy(f)}) {
    INFO(r.name << ": " << r.detail);
    CHECK(r.ok);
  }
  SECTION("not root") {
    f.root = false;
    f.queue_rule.reset();
    f.tproxy_rule.reset();
    const auto r = judge_root(f);
    CHECK_FALSE(r.ok);
    CHECK(has(r.fix, "sudo"));
    CHECK(judge_nfqueue(f).ok);  // unknown without root; root's own check fails
    CHECK(has(judge_nfqueue(f).detail, "needs root"));
  }
  SECTION("no libnftables") {
    f.nftables_error = "--root needs libnftables.so.1 (Debian package libnftables1), which could not be loaded";
    const auto r = judge_nftables(f);
    CHECK_FALSE(r.ok);
    CHECK(r.fix == "sudo apt install libnftables1 libnftnl11");
  }
  SECTION("no queue, no tproxy") {
    f.queue_rule = false;
    f.queue_error = "No such file or directory";
    f.tproxy_rule = false;
    const auto q = judge_nfqueue(f);
    CHECK_FALSE(q.ok);
    CHECK(q.level == need::required);
    CHECK(has(q.detail, "No such file or directory"));
    CHECK(has(q.fix, "modprobe nfnetlink_queue xt_NFQUEUE nft_compat"));
    const auto t = judge_tproxy(f);
    CHECK_FALSE(t.ok);
    CHECK(t.level == need::recommended);
    CHECK(has(t.fix, "modprobe nft_tproxy"));
  }
  SECTION("nfnetlink_queue nowhere") {
    f.nfnetlink_queue = module_state::absent;
    CHECK_FALSE(judge_nfqueue(f).ok);
  }
}

TEST_CASE("doctor: kernel release", "[doctor]") {
  CHECK(parse_kernel_release("6.1.0-18-amd64") == std::tuple{6, 1, 0});
  CHECK(parse_kernel_release("6.18.44-fc-v1272") == std::tuple{6, 18, 44});
  CHECK(parse_kernel_release("5.4") == std::tuple{5, 4, 0});
  CHECK_FALSE(parse_kernel_release("linux"));
  CHECK(judge_kernel({"6.1.0-18-amd64"}, false).ok);
  CHECK_FALSE(judge_kernel({"4.19.0-26-amd64"}, false).ok);
  const auto old_rootful = judge_kernel({"5.10.0-28-amd64"}, true);
  CHECK_FALSE(old_rootful.ok);
  CHECK(old_rootful.level == need::recommended);
}

TEST_CASE("doctor: output and exit verdict", "[doctor]") {
  std::vector<check_result> checks{
      {"tun", false, need::required, "/dev/net/tun is mode 0600", "sudo chmod 0666 /dev/net/tun"},
      {"ping", false, need::recommended, "ping_group_range", "sysctl"},
      {"kernel", true, need::required, "Linux 6.1", ""},
  };
  CHECK_FALSE(backend_can_run(checks));
  const std::string text = render_text(checks, false);
  INFO(text);
  CHECK(has(text, "FAIL  tun     /dev/net/tun is mode 0600\n"));
  CHECK(has(text, "              fix: sudo chmod 0666 /dev/net/tun\n"));
  CHECK(has(text, "warn  ping"));
  CHECK(has(text, "not ready: the rootless backend cannot run until tun is fixed\n"));
  const auto j = nlohmann::json::parse(render_json(checks, false));
  CHECK(j["backend"] == "rootless");
  CHECK(j["ready"] == false);
  REQUIRE(j["checks"].size() == 3);
  CHECK(j["checks"][0] == nlohmann::json{{"name", "tun"}, {"ok", false}, {"level", "required"},
                                         {"detail", "/dev/net/tun is mode 0600"}, {"fix", "sudo chmod 0666 /dev/net/tun"}});
  checks[0].ok = true;
  CHECK(backend_can_run(checks));  // a warning does not stop it
  CHECK(has(render_text(checks, true), "ready: the rootful backend can run (1 warning)\n"));
}
