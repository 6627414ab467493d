// run_doctor: probe, judge, print (see doctor.hpp).
#include "app/doctor/doctor.hpp"

#include <cstdio>

#include <fmt/format.h>

#include "app/doctor/checks.hpp"
#include "app/doctor/probes.hpp"
#include "app/doctor/report.hpp"

namespace netpen::app::doctor {

std::vector<check_result> run_checks(bool rootful) {
  const kernel_facts kernel = probe_kernel();
  if (rootful) {
    const rootful_facts f = probe_rootful();
    return {judge_root(f),   judge_mounts(probe_chroot()), judge_nftables(f), judge_nfqueue(f), judge_tproxy(f),
            judge_kernel(kernel, true)};
  }
  const namespace_probe probe = probe_namespaces();
  return {judge_user_namespaces(probe_userns(probe)), judge_tun(probe_tun(probe)), judge_id_maps(probe_id_maps(probe)),
          judge_ping(probe_ping()), judge_kernel(kernel, false)};
}

int run_doctor(const doctor_command& cmd) {
  const auto checks = run_checks(cmd.root);
  const std::string text =
      cmd.format == output_format::json ? render_json(checks, cmd.root) : render_text(checks, cmd.root);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
  return backend_can_run(checks) ? 0 : 1;
}

}  // namespace netpen::app::doctor
