// The host loopback ports a run opened to its tree (--host-port): which
// protocol and port the tree may reach on the host's 127.0.0.1 / [::1].
// Pure data: the set is fixed before the run starts and read-only after,
// so any thread may ask it. Used by the relay's destination rules, the
// listeners the backends open inside the tree and on the gateway, and the
// rootful host table.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace netpen::relay {

struct host_port {
  bool udp = false;
  std::uint16_t port = 0;
  auto operator<=>(const host_port&) const = default;
};

class host_port_set {
 public:
  host_port_set() = default;
  // Sorted, duplicates dropped; port 0 entries are ignored.
  explicit host_port_set(std::vector<host_port> ports);

  bool contains(bool udp, std::uint16_t port) const;
  bool empty() const { return ports_.empty(); }
  const std::vector<host_port>& ports() const { return ports_; }
  // The ports of one protocol, ascending.
  std::vector<std::uint16_t> of(bool udp) const;
  // The ports served at the gateway: all but 53, which stays the tree's
  // forced DNS (netpen's forwarder) for both protocols.
  host_port_set at_gateway() const;

 private:
  std::vector<host_port> ports_;
};

// "tcp 8080, 9000-9010; udp 53" (ranges folded), "none" when empty.
std::string to_text(const host_port_set& set);

}  // namespace netpen::relay
