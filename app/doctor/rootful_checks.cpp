// The --root checks: root itself; libnftables and libnftnl (dlopen()ed by
// the rootful backend) and the kernel's nf_tables; the NFQUEUE flow gate
// every --root run uses (the xtables NFQUEUE target through nft_compat, and
// nfnetlink_queue); TPROXY, which --root needs with --proxy and with name
// rules. All tried for real in a throwaway network namespace as root. (The
// `socket` match is not used by netpen, so it is not checked.)
#include <fmt/format.h>

#include "app/doctor/checks.hpp"

namespace netpen::app::doctor {
namespace {

constexpr const char* not_root_yet = "not checked: needs root (run 'sudo netpen doctor --root')";

std::string_view state_text(module_state s) {
  switch (s) {
    case module_state::present: return "loaded or built in";
    case module_state::loadable: return "loadable (the kernel loads it on first use)";
    case module_state::absent: return "not found in this kernel";
    case module_state::unknown: break;
  }
  return "not visible from here";
}

// A kernel feature tried for real as root; without root, judged from where
// its module is, as far as that can be seen.
check_result judge_feature(check_result r, const rootful_facts& f, const std::optional<bool>& tried,
                           const std::string& error, module_state module, std::string_view what,
                           std::string_view fix) {
  if (tried) {
    r.ok = *tried;
    r.detail = *tried ? fmt::format("{} works (tried in a throwaway network namespace)", what)
                      : fmt::format("the kernel refuses {}: {} (module {})", what, error, state_text(module));
    if (!r.ok) r.fix = std::string(fix);
    return r;
  }
  if (module == module_state::absent) {
    r.ok = false;
    r.detail = fmt::format("{}: module {}", what, state_text(module));
    r.fix = std::string(fix);
    return r;
  }
  r.detail = fmt::format("{}: module {}; {}", what, state_text(module),
                         f.root ? "not tried (see nftables)" : not_root_yet);
  return r;
}

}  // namespace

check_result judge_root(const rootful_facts& f) {
  check_result r{"root", f.root, need::required, "", ""};
  r.detail = f.root ? "running as root" : "not root: --root changes the host's network and needs root";
  if (!f.root) r.fix = "run it with sudo: sudo netpen --root -- COMMAND (or leave out --root for the rootless backend)";
  return r;
}

check_result judge_mounts(std::optional<bool> chrooted) {
  check_result r{"mounts", !chrooted.value_or(false), need::required, "", ""};
  if (!chrooted) r.detail = "cannot tell whether this is a chroot (the tree gets its own mount namespace)";
  else if (!*chrooted) r.detail = "not in a chroot: the tree's own mount namespace can make its mounts private";
  else {
    r.detail = "netpen runs in a chroot, where the tree's mount namespace cannot make '/' private";
    r.fix = "run netpen outside the chroot (or in a container, which has its own mount namespace)";
  }
  return r;
}

check_result judge_nftables(const rootful_facts& f) {
  check_result r{"nftables", true, need::required, "", ""};
  if (!f.nftables_error.empty() || !f.nftnl_error.empty()) {
    r.ok = false;
    r.detail = !f.nftables_error.empty() ? f.nftables_error : f.nftnl_error;
    r.fix = "sudo apt install libnftables1 libnftnl11";
    return r;
  }
  if (f.nft_base_error) {
    r.ok = false;
    r.detail = "libnftables loads, but the kernel refuses an nftables table: " + *f.nft_base_error;
    r.fix = "use a kernel with nf_tables (CONFIG_NF_TABLES): sudo modprobe nf_tables";
    return r;
  }
  r.detail = f.root ? "libnftables and libnftnl load; the kernel accepts an nftables table (tried in a throwaway network namespace)"
                    : std::string("libnftables and libnftnl load; the kernel's nf_tables ") + not_root_yet;
  return r;
}

check_result judge_nfqueue(const rootful_facts& f) {
  check_result r{"nfqueue", true, need::required, "", ""};
  constexpr const char* fix =
      "sudo modprobe nfnetlink_queue xt_NFQUEUE nft_compat (the kernel needs CONFIG_NETFILTER_NETLINK_QUEUE, "
      "CONFIG_NETFILTER_XT_TARGET_NFQUEUE and CONFIG_NFT_COMPAT)";
  r = judge_feature(r, f, f.queue_rule, f.queue_error, f.xt_nfqueue, "the flow gate's NFQUEUE rule (xt_NFQUEUE)", fix);
  if (!r.ok) return r;
  if (f.nfnetlink_queue == module_state::absent) {
    r.ok = false;
    r.detail += "; nfnetlink_queue (NFQUEUE to netpen) is not found in this kernel";
    r.fix = fix;
    return r;
  }
  r.detail += fmt::format("; nfnetlink_queue {}", state_text(f.nfnetlink_queue));
  return r;
}

check_result judge_tproxy(const rootful_facts& f) {
  check_result r{"tproxy", true, need::recommended, "", ""};
  r = judge_feature(r, f, f.tproxy_rule, f.tproxy_error, f.nft_tproxy, "a tproxy rule (nft_tproxy)",
                    "sudo modprobe nft_tproxy (the kernel needs CONFIG_NFT_TPROXY); without it --root runs "
                    "with --proxy or name rules (--allow NAME) fail");
  if (r.ok) r.detail += " (needed by --root with --proxy or name rules)";
  return r;
}

}  // namespace netpen::app::doctor
