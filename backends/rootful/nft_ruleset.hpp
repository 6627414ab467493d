// The nftables text of a rootful run: the host-side table (DNS redirect,
// masquerade, forward/input guards, proxy-mode TPROXY, --iface marks, the
// egress capture's NFLOG rules) and the tree's own table (the NFQUEUE policy
// gate). Pure text building with strict validation of every value spliced in;
// nothing here talks to the kernel (nftables.hpp does).
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>
#include <string>
#include <string_view>
#include <vector>

#include "net/common/error.hpp"

namespace netpen::backends::rootful {

// The host table of one run: everything in it is keyed on this run's veth
// or addresses, and every base chain has `policy accept`, so the rest of the
// host's traffic is never affected.
struct host_table_plan {
  std::string table;             // e.g. "netpen_3fa9c1" (family inet)
  std::string veth;              // host-side veth name, e.g. "np3fa9c1"
  std::string child4, gateway4;  // the child's /30, e.g. "10.249.17.2", "10.249.17.1"
  std::optional<std::string> child6, gateway6;  // both or neither; nullopt: no IPv6 rules
  std::uint16_t dns_port = 53;   // netpen's DNS forwarder on gateway4/gateway6
  std::optional<std::uint16_t> tproxy_port;  // proxy mode: the tree's TCP goes to this port on the gateway
  std::uint32_t tproxy_mark = 0;             // mark of TPROXY'd packets (non-zero in proxy mode)
  std::optional<std::string> iface;          // --iface: direct egress only through this interface
  std::uint32_t iface_mark = 0;              // mark for policy routing via iface (non-zero with iface)
  // -o at egress: the tree's forwarded packets crossing the host's other
  // interfaces (after the masquerade out, before its undoing in) are logged
  // to this NFLOG group (the capture_in/capture_out chains).
  std::optional<std::uint16_t> log_group;
  // --host-port: the gateway's ports the tree may reach (netpen listens
  // there, bound to the veth, and relays to the host's loopback).
  std::vector<std::uint16_t> host_tcp_ports, host_udp_ports;
};

// A port the tree accepts new connections on (--publish), from the gateway only.
struct inbound_port {
  std::uint16_t port = 0;
  bool udp = false;
};

// The tree's own table `inet netpen`, in the tree's network namespace.
struct child_table_plan {
  std::uint16_t queue = 0;      // NFQUEUE number
  std::uint32_t deny_mark = 0;  // non-zero; packets re-injected with this bit are rejected
  // With a gateway: the input chain. New TCP and UDP into the tree is
  // refused (a reset, port unreachable) unless it comes from the gateway to
  // a published port, i.e. netpen's own connections for --publish; the
  // tree's loopback and its flows' answers are not affected.
  std::optional<std::string> gateway4 = std::nullopt;
  std::optional<std::string> gateway6 = std::nullopt;
  std::vector<inbound_port> published = {};
  // When netpen observes: the first packets each TCP flow sends (up to
  // first_bytes_packets in its original direction, the SYN included) are
  // copied to this NFLOG group, without a verdict, for what they claim.
  std::optional<std::uint16_t> first_bytes_group = std::nullopt;
};

// How many packets of each TCP flow's original direction the first-bytes
// rule copies: the SYN, the handshake's ACK, then room for a ClientHello
// or request head in a few writes and the ACKs between them.
inline constexpr unsigned first_bytes_packets = 8;
// The first-bytes rule of the tree's output chain (first_bytes_group):
// "meta l4proto tcp ct direction original ct original packets <= 8 oifname != "lo" log group 1".
std::string first_bytes_rule(std::uint16_t group);

// The child table's name (family inet), and its sets of allowed
// destinations (address . protocol . port, each element with a timeout):
// the gate's verdict cache, whose new flows skip the queue.
// Every run's addresses come from these pools (run_addresses.cpp); the
// host table refuses the tree's packets to any of them but its own
// gateway's DNS and ping, so no tree reaches another run's gateway.
inline constexpr std::string_view netpen_pool4 = "10.249.0.0/16";
inline constexpr std::string_view netpen_pool6 = "fd6e:7065:6e01::/48";

inline constexpr std::string_view child_table_name = "netpen";
inline constexpr std::string_view allowed_set4 = "allowed4";
inline constexpr std::string_view allowed_set6 = "allowed6";

// Each script is one nft transaction that atomically replaces any table of
// the same name (`add table` + `delete table` + the definition), so a
// leftover of a crashed run never doubles the rules.
// Errors: code "nft-plan", naming the offending field.
result<std::string> host_table_script(const host_table_plan& plan);
result<std::string> child_table_script(const child_table_plan& plan);
result<std::string> delete_table_script(std::string_view table);
// "add element inet netpen allowed4 { 192.0.2.1 . tcp . 443 timeout 60s }":
// one cached verdict (UDP when !tcp), IPv4 or IPv6 by the address's form.
result<std::string> allowed_element_script(const std::string& address, bool tcp, std::uint16_t port,
                                           std::chrono::seconds timeout);  // "delete table inet <table>\n"

// Validators shared with the libnftables wrapper.
// A table name: a letter, then letters, digits or '_' (at most 64 in all).
bool valid_table_name(std::string_view name);
// An interface name as the kernel allows it, restricted to [A-Za-z0-9_.-]{1,15}.
bool valid_interface_name(std::string_view name);
// One of nft's table families: ip, ip6, inet, arp, bridge, netdev.
bool valid_family(std::string_view family);

}  // namespace netpen::backends::rootful
