// Socket owner lookup through /proc (see process_finder.hpp).
#include "net/relay/process_finder.hpp"

#include <dirent.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <sstream>
#include <vector>

namespace netpen::relay {
namespace {

constexpr std::size_t max_command = 200;

std::string read_link(const std::string& path) {
  char buf[256];
  const ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

std::optional<std::uint64_t> hex_value(std::string_view s) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// "0200F80A:9C40": the address as the kernel's native-endian 32-bit words.
bool parse_endpoint(std::string_view text, bool v6, packet::ip_address& addr, std::uint16_t& port) {
  const auto colon = text.find(':');
  const std::size_t hex_len = v6 ? 32 : 8;
  if (colon != hex_len) return false;
  addr.v6 = v6;
  for (std::size_t w = 0; w < hex_len / 8; ++w) {
    auto word = hex_value(text.substr(w * 8, 8));
    if (!word) return false;
    const auto u = static_cast<std::uint32_t>(*word);
    // Native (little-endian on the machines netpen runs on) word -> bytes in memory order.
    for (std::size_t b = 0; b < 4; ++b) addr.bytes[w * 4 + b] = static_cast<std::uint8_t>(u >> (8 * b));
  }
  auto p = hex_value(text.substr(colon + 1));
  if (!p || *p > 0xffff) return false;
  port = static_cast<std::uint16_t>(*p);
  return true;
}


int sandbox_pid(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with("NSpid:")) continue;
    const auto last = line.find_last_of(" \t");
    int v = 0;
    std::from_chars(line.data() + last + 1, line.data() + line.size(), v);
    return v;
  }
  return 0;
}

const char* table_for(std::uint8_t protocol, bool v6, bool raw) {
  if (protocol == packet::proto_tcp) return v6 ? "tcp6" : "tcp";
  if (protocol == packet::proto_udp) return v6 ? "udp6" : "udp";
  if (raw) return v6 ? "raw6" : "raw";
  return v6 ? "icmp6" : "icmp";
}

}  // namespace

std::string command_line(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!raw.empty() && raw.back() == '\0') raw.pop_back();
  for (char& c : raw)
    if (c == '\0') c = ' ';
  if (raw.size() > max_command) raw = raw.substr(0, max_command) + "...";
  return raw;
}

std::optional<proc_socket_line> parse_proc_socket_line(std::string_view line, bool v6) {
  std::istringstream in{std::string(line)};
  std::string sl, local, remote, st, queues, timer, retr, uid, timeout, inode;
  if (!(in >> sl >> local >> remote >> st >> queues >> timer >> retr >> uid >> timeout >> inode)) return std::nullopt;
  proc_socket_line out;
  if (!parse_endpoint(local, v6, out.local, out.local_port) || !parse_endpoint(remote, v6, out.remote, out.remote_port))
    return std::nullopt;
  std::uint64_t n = 0;
  auto [p, ec] = std::from_chars(inode.data(), inode.data() + inode.size(), n);
  if (ec != std::errc() || n == 0) return std::nullopt;
  out.inode = n;
  return out;
}

process_finder::process_finder(pid_t init_pid)
    : init_pid_(init_pid) {}

std::optional<std::uint64_t> process_finder::socket_inode(const flow_key& key) const {
  const bool v6 = key.dst.v6;
  const bool icmp = key.protocol == packet::proto_icmp || key.protocol == packet::proto_icmpv6;
  std::optional<std::uint64_t> loose;  // a raw socket, or an unconnected UDP socket on the port
  for (bool raw : {false, true}) {
    if (raw && !icmp) break;
    std::ifstream in("/proc/" + std::to_string(init_pid_) + "/net/" + table_for(key.protocol, v6, raw));
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      auto s = parse_proc_socket_line(line, v6);
      if (!s) continue;
      if (raw) {
        if (!loose) loose = s->inode;  // cannot tell ping processes apart by id: the first one
        continue;
      }
      if (s->local_port != key.src_port) continue;
      const bool connected = s->remote_port != 0 || s->remote.bytes != std::array<std::uint8_t, 16>{};
      if (!connected || icmp) {
        if (!loose) loose = s->inode;
        if (icmp) return s->inode;
        continue;
      }
      if (s->remote == key.dst && s->remote_port == key.dst_port) return s->inode;
    }
    if (loose) return loose;
  }
  return loose;
}

// The tree's pids: the init and its descendants, through each task's
// "children" list (no walk over every process on the host).
std::vector<pid_t> tree_pids(pid_t init) {
  constexpr std::size_t max_processes = 4096;
  std::vector<pid_t> out{init};
  for (std::size_t i = 0; i < out.size() && out.size() < max_processes; ++i) {
    const std::string tasks = "/proc/" + std::to_string(out[i]) + "/task";
    DIR* dir = ::opendir(tasks.c_str());
    if (dir == nullptr) continue;
    while (dirent* t = ::readdir(dir)) {
      if (t->d_name[0] == '.') continue;
      std::ifstream in(tasks + "/" + t->d_name + "/children");
      pid_t child = 0;
      while (in >> child && out.size() < max_processes) out.push_back(child);
    }
    ::closedir(dir);
  }
  return out;
}

void process_finder::rescan() {
  owners_.clear();
  for (const pid_t pid : tree_pids(init_pid_)) {
    const std::string base = "/proc/" + std::to_string(pid);
    DIR* fds = ::opendir((base + "/fd").c_str());
    if (fds == nullptr) continue;
    bool any = false;
    while (dirent* f = ::readdir(fds)) {
      if (f->d_name[0] == '.') continue;
      const std::string target = read_link(base + "/fd/" + f->d_name);
      if (!target.starts_with("socket:[")) continue;
      std::uint64_t inode = 0;
      std::from_chars(target.data() + 8, target.data() + target.size() - 1, inode);
      owners_.try_emplace(inode, pid);  // a shared socket: the first holder found (the parent)
      any = true;
    }
    ::closedir(fds);
    if (!any) continue;
    events::process_info info{pid, sandbox_pid(pid), command_line(pid)};
    auto& known = processes_[pid];
    if (!info.command.empty() || known.pid != pid) known = std::move(info);  // a zombie keeps its old name
  }
}

std::optional<events::process_info> process_finder::owner(std::uint64_t inode, bool rescan_allowed) {
  if (auto it = owners_.find(inode); it != owners_.end()) {
    if (auto p = processes_.find(it->second); p != processes_.end()) return p->second;
  }
  if (!rescan_allowed) return std::nullopt;
  rescan();
  return owner(inode, false);
}

std::optional<events::process_info> process_finder::find(const flow_key& key) {
  const auto inode = socket_inode(key);
  if (!inode) return std::nullopt;
  return owner(*inode, true);
}

}  // namespace netpen::relay
