// netpen doctor's vocabulary: the facts probed from the host (plain data, so
// the judging functions in checks.hpp are pure and testable with made-up
// facts) and one check's verdict. Theory: probe_*.cpp gather facts (they
// fork, open devices, read /proc and /sys, ask libnftables for a dry run,
// and change nothing); each group file (user_namespaces.cpp, tun.cpp,
// id_maps.cpp, ping.cpp, rootful_checks.cpp, kernel.cpp) turns its facts
// into check_results with the exact fix; render.cpp prints them and decides
// the exit status from the checks the chosen backend needs.
#pragma once
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace netpen::app::doctor {

// How much a check matters to the backend being checked.
enum class need {
  required,     // the backend cannot run without it: a failure makes doctor exit 1
  recommended,  // a feature is missing (e.g. ping out of the sandbox), runs still work
  info,         // shown for the record (kernel release, an unused fallback)
};

struct check_result {
  std::string name;    // stable identifier, e.g. "user-namespaces"
  bool ok = true;
  need level = need::required;
  std::string detail;  // what was found
  std::string fix;     // what to run or change when !ok (empty when ok)
};

// A forked child's attempt at what the rootless backend does first: a user
// namespace, its own uid/gid map written directly, then network, mount and
// pid namespaces inside it, and a tap device. Each errno is 0 on success;
// a step not reached stays nullopt.
struct namespace_probe {
  bool ran = false;               // the child could be forked and reported back
  std::optional<int> userns;      // unshare(CLONE_NEWUSER)
  std::optional<int> id_map;      // setgroups "deny", uid_map "0 UID 1", gid_map "0 GID 1"
  std::optional<int> other_ns;    // unshare(CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWPID)
  std::optional<int> tun_open;    // open("/dev/net/tun") inside
  std::optional<int> tap_create;  // TUNSETIFF IFF_TAP inside
};

struct userns_facts {
  std::vector<std::string> missing_ns;             // of user, net, mnt, pid (/proc/self/ns)
  std::optional<long> max_user_namespaces;         // user.max_user_namespaces
  std::optional<long> unprivileged_userns_clone;   // Debian kernel.unprivileged_userns_clone
  std::optional<long> apparmor_restrict_userns;    // Ubuntu kernel.apparmor_restrict_unprivileged_userns
  bool root = false;
  std::optional<bool> chrooted;                    // "/" is not pid 1's root; unknown when that cannot be read
  namespace_probe probe;
};

struct tun_facts {
  bool exists = true;
  bool char_device = true;
  unsigned mode = 0666;      // permission bits of /dev/net/tun
  int open_errno = 0;        // open(O_RDWR) on the host as the caller; 0: opened
  bool root = false;
  namespace_probe probe;
};

// A setuid helper of the uidmap package.
struct helper_facts {
  std::optional<std::string> path;  // found on PATH (or /usr/bin); nullopt: not installed
  bool privileged = false;          // setuid root, or file capabilities
};

struct id_map_facts {
  bool root = false;
  std::string user;                 // the caller's name (or uid)
  bool subuid = false, subgid = false;  // a range for the caller in /etc/subuid, /etc/subgid
  helper_facts newuidmap, newgidmap;
  namespace_probe probe;            // its id_map step: the direct map
};

struct ping_facts {
  bool root = false;
  std::optional<std::pair<long, long>> range;  // net.ipv4.ping_group_range
  std::vector<gid_t> groups;                   // the caller's gid and supplementary groups
  int socket_errno = 0;                        // socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP); 0: allowed
};

// Where a kernel module's code is: loaded or built in, loadable from
// /lib/modules, or nowhere that can be seen.
enum class module_state { present, loadable, absent, unknown };

struct rootful_facts {
  bool root = false;
  std::string nftables_error;                  // libnftables could not be loaded (empty: loaded)
  std::string nftnl_error;                     // libnftnl likewise
  // Tried for real, as root, in a network namespace made for the probe and
  // gone with it: a table, the flow gate's NFQUEUE rule (the xtables target
  // through nft_compat, as --root writes it), a tproxy rule. nullopt: not tried.
  std::optional<std::string> nft_base_error;   // the table failed (then nothing else is tried)
  std::optional<bool> queue_rule;
  std::optional<bool> tproxy_rule;
  std::string queue_error, tproxy_error;       // why they failed
  module_state nfnetlink_queue = module_state::unknown;
  module_state xt_nfqueue = module_state::unknown;
  module_state nft_tproxy = module_state::unknown;
};

struct kernel_facts {
  std::string release;  // uname -r
};

}  // namespace netpen::app::doctor
