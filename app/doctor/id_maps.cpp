// The id-maps check. The rootless backend maps only the caller's own uid and
// gid into the sandbox (as 0), written directly, which needs no helper; only
// when the kernel refuses that does it fall back to newuidmap/newgidmap (the
// uidmap package, setuid root), with the caller's /etc/subuid and
// /etc/subgid ranges as extra ids when there are some. So the helpers and
// ranges matter only on hosts where the direct map fails.
#include <fmt/format.h>

#include "app/doctor/checks.hpp"

namespace netpen::app::doctor {
namespace {

std::string helpers_text(const id_map_facts& f) {
  const auto one = [](std::string_view name, const helper_facts& h) {
    if (!h.path) return fmt::format("{} not installed", name);
    return fmt::format("{} {}", *h.path, h.privileged ? "setuid" : "NOT setuid");
  };
  return fmt::format("{}, {}; /etc/subuid: {} for {}, /etc/subgid: {}", one("newuidmap", f.newuidmap),
                     one("newgidmap", f.newgidmap), f.subuid ? "a range" : "no range", f.user,
                     f.subgid ? "a range" : "no range");
}

}  // namespace

check_result judge_id_maps(const id_map_facts& f) {
  check_result r{"id-maps", true, need::info, "", ""};
  const auto& direct = f.probe.id_map;
  if (direct && *direct == 0) {
    r.detail = fmt::format("the own uid/gid map is written directly (all netpen needs); newuidmap and subordinate "
                           "ids are an unused fallback here ({})",
                           helpers_text(f));
    return r;
  }
  if (!direct) {
    r.ok = false;
    r.detail = "not checked: no user namespace could be made (see user-namespaces)";
    r.fix = "fix user-namespaces first";
    return r;
  }
  // The direct write failed: everything rests on the helpers now.
  r.level = need::required;
  r.detail = fmt::format("writing the own uid/gid map directly fails ({}), so netpen needs newuidmap/newgidmap: {}",
                         errno_name(*direct), helpers_text(f));
  if (!f.newuidmap.path || !f.newgidmap.path) {
    r.ok = false;
    r.fix = "sudo apt install uidmap";
  } else if (!f.newuidmap.privileged || !f.newgidmap.privileged) {
    r.ok = false;
    r.fix = fmt::format("sudo chmod u+s {} {}", *f.newuidmap.path, *f.newgidmap.path);
  } else if (!f.subuid || !f.subgid) {
    r.fix = fmt::format("optional, for ids beyond your own in the sandbox: sudo usermod --add-subuids "
                        "100000-165535 --add-subgids 100000-165535 {}",
                        f.user);
  }
  return r;
}

}  // namespace netpen::app::doctor
