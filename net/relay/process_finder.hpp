// Which process in the sandbox owns a flow's socket. The tree's sockets are
// listed in /proc/<init>/net/{tcp,tcp6,udp,udp6,icmp,icmp6,raw,raw6} (the
// child's network namespace, readable from the host side); the socket's
// inode names it, and the process holding an fd "socket:[inode]" among the
// tree's processes (the init and its descendants, found through
// /proc/<pid>/task/<tid>/children) is the owner. The inode -> process map
// is cached and rebuilt on a miss. Blocking /proc I/O: call it off the
// relay's hot path. Not thread-safe.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include "net/events/event.hpp"
#include "net/relay/flow_key.hpp"

namespace netpen::relay {

// A process's command line as events show it: /proc/PID/cmdline with its
// NULs as spaces, cut at 200 characters ("..."); empty when it is gone.
std::string command_line(pid_t pid);

class process_finder {
 public:
  explicit process_finder(pid_t init_pid);

  // The owner of the child's socket for `key` (protocol tcp/udp/icmp/icmpv6;
  // for ICMP echo, key.src_port is the identifier), if it can be found.
  std::optional<events::process_info> find(const flow_key& key);

 private:
  std::optional<std::uint64_t> socket_inode(const flow_key& key) const;
  std::optional<events::process_info> owner(std::uint64_t inode, bool rescan_allowed);
  void rescan();

  pid_t init_pid_;
  std::unordered_map<std::uint64_t, pid_t> owners_;  // socket inode -> pid
  std::unordered_map<pid_t, events::process_info> processes_;
};

// Parses one line of /proc/net/{tcp,udp,icmp,raw}[6]: local and remote
// address:port (the kernel's hex form) and the inode. Exposed for tests.
struct proc_socket_line {
  packet::ip_address local{}, remote{};
  std::uint16_t local_port = 0, remote_port = 0;
  std::uint64_t inode = 0;
};
std::optional<proc_socket_line> parse_proc_socket_line(std::string_view line, bool v6);

}  // namespace netpen::relay
