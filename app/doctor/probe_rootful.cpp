// The --root probes (see probes.hpp): libnftables and libnftnl as the
// rootful backend loads them; as root, a forked child in a network namespace
// of its own applies a table, the flow gate's NFQUEUE rule and a tproxy rule
// for real (the kernel loads modules on demand; the namespace, and all of
// it, goes with the child: the host is not touched); and where the modules
// are (/sys/module, /proc/net/netfilter, /lib/modules).
#include <fcntl.h>
#include <linux/netfilter.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "app/doctor/probes.hpp"
#include "backends/rootful/nft_libraries.hpp"
#include "backends/rootful/nft_queue_rule.hpp"
#include "backends/rootful/nftables.hpp"

namespace netpen::app::doctor {
namespace {

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

bool file_mentions(const std::string& path, const std::string& needle) {
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (line.find(needle) != std::string::npos) return true;
  return false;
}

// loaded (or built in with an entry in /sys/module), built in or loadable
// per /lib/modules/RELEASE, else absent; unknown without /lib/modules.
module_state module_of(const std::string& name, const std::string& proc_file = "") {
  if (exists("/sys/module/" + name) || (!proc_file.empty() && exists(proc_file))) return module_state::present;
  utsname u{};
  if (::uname(&u) != 0) return module_state::unknown;
  const std::string dir = std::string("/lib/modules/") + u.release;
  if (!exists(dir + "/modules.dep")) return module_state::unknown;
  if (file_mentions(dir + "/modules.builtin", "/" + name + ".ko")) return module_state::present;
  if (file_mentions(dir + "/modules.dep", "/" + name + ".ko")) return module_state::loadable;
  return module_state::absent;
}

constexpr const char* probe_table = "netpen_doctor";

// In the forked child, in its own network namespace: the three tries, as JSON.
std::string try_rules() {
  namespace rootful = backends::rootful;
  nlohmann::json out;
  if (::unshare(CLONE_NEWNET) != 0) {
    out["base"] = std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
    return out.dump();
  }
  auto session = rootful::nft_session::open();
  if (!session) {
    out["base"] = session.error().message;
    return out.dump();
  }
  const std::string table = std::string("table inet ") + probe_table +
                            " {\n\tchain output {\n\t\ttype filter hook output priority filter; policy accept;\n\t}\n"
                            "\tchain prerouting {\n\t\ttype filter hook prerouting priority mangle; policy accept;\n\t}\n}\n";
  if (auto base = session->run(table); !base) {
    out["base"] = base.error().message;
    return out.dump();
  }
  auto queue = rootful::append_queue_rule(NFPROTO_INET, probe_table, "output", 0);
  out["queue"] = queue ? std::string() : queue.error().message;
  auto tproxy = session->run(std::string("add rule inet ") + probe_table +
                             " prerouting meta l4proto tcp tproxy ip to 127.0.0.1:9 accept\n");
  out["tproxy"] = tproxy ? std::string() : tproxy.error().message;
  return out.dump();
}

// Runs try_rules in a child (bounded: killed after 10 s) and reads its answer.
void rules_in_throwaway_netns(rootful_facts& f) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return;
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return;
  }
  if (pid == 0) {
    ::close(fds[0]);
    const std::string answer = try_rules();
    [[maybe_unused]] const auto n = ::write(fds[1], answer.data(), answer.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string text;
  char buf[4096];
  pollfd p{fds[0], POLLIN, 0};
  while (::poll(&p, 1, 10000) == 1) {
    const ssize_t n = ::read(fds[0], buf, sizeof(buf));
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  ::kill(pid, SIGKILL);  // a no-op once it has exited; ends a hung one
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) {
    f.nft_base_error = "the probe process did not report back";
    return;
  }
  if (j.contains("base")) {
    f.nft_base_error = j["base"].get<std::string>();
    return;
  }
  f.queue_error = j.value("queue", std::string("not tried"));
  f.queue_rule = f.queue_error.empty();
  f.tproxy_error = j.value("tproxy", std::string("not tried"));
  f.tproxy_rule = f.tproxy_error.empty();
}

}  // namespace

rootful_facts probe_rootful() {
  namespace rootful = backends::rootful;
  rootful_facts f;
  f.root = ::geteuid() == 0;
  if (auto lib = rootful::nftables_library(); !lib) f.nftables_error = lib.error().message;
  if (auto lib = rootful::nftnl_library(); !lib) f.nftnl_error = lib.error().message;
  f.nfnetlink_queue = module_of("nfnetlink_queue", "/proc/net/netfilter/nfnetlink_queue");
  f.xt_nfqueue = module_of("xt_NFQUEUE");
  f.nft_tproxy = module_of("nft_tproxy");
  if (f.root && f.nftables_error.empty() && f.nftnl_error.empty()) rules_in_throwaway_netns(f);
  return f;
}

}  // namespace netpen::app::doctor
