// Address literals, prefixes and the address classes of the policy.
#include "net/policy/address_class.hpp"

#include <arpa/inet.h>

#include <array>
#include <vector>

namespace netpen::policy {
namespace {

struct prefix {
  packet::ip_address network;
  unsigned length = 0;
};

// "10.0.0.0/8" from a table below (always well-formed).
prefix parse_prefix(std::string_view text) {
  const auto slash = text.find('/');
  const auto ip = parse_ip(text.substr(0, slash));
  unsigned length = 0;
  for (char c : text.substr(slash + 1)) length = length * 10 + static_cast<unsigned>(c - '0');
  return {ip.value_or(packet::ip_address{}), length};
}

std::vector<prefix> parse_prefixes(std::initializer_list<std::string_view> texts) {
  std::vector<prefix> out;
  for (auto t : texts) out.push_back(parse_prefix(t));
  return out;
}

bool in_any(const std::vector<prefix>& table, const packet::ip_address& ip) {
  const auto a = unmapped(ip);
  for (const auto& p : table)
    if (in_prefix(a, p.network, p.length)) return true;
  return false;
}

const std::vector<prefix>& private_prefixes() {
  static const auto table = parse_prefixes({
      "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
      "192.168.0.0/16", "::/128", "::1/128", "fc00::/7", "fe80::/10",
  });
  return table;
}

const std::vector<prefix>& metadata_prefixes() {
  static const auto table = parse_prefixes({"169.254.169.254/32", "fd00:ec2::254/128"});
  return table;
}

// Public resolvers that also answer DoH on port 443.
struct resolver {
  std::string_view operator_name;
  std::vector<packet::ip_address> addresses;
};

resolver make_resolver(std::string_view name, std::initializer_list<std::string_view> literals) {
  resolver r{name, {}};
  for (auto l : literals) r.addresses.push_back(parse_ip(l).value_or(packet::ip_address{}));
  return r;
}

const std::vector<resolver>& public_resolvers() {
  static const std::vector<resolver> table{
      make_resolver("Cloudflare", {"1.1.1.1", "1.0.0.1", "2606:4700:4700::1111", "2606:4700:4700::1001"}),
      make_resolver("Google", {"8.8.8.8", "8.8.4.4", "2001:4860:4860::8888", "2001:4860:4860::8844"}),
      make_resolver("Quad9", {"9.9.9.9", "149.112.112.112", "2620:fe::fe", "2620:fe::9"}),
      make_resolver("OpenDNS", {"208.67.222.222", "208.67.220.220", "2620:119:35::35", "2620:119:53::53"}),
      make_resolver("AdGuard", {"94.140.14.14", "94.140.15.15", "2a10:50c0::ad1:ff", "2a10:50c0::ad2:ff"}),
  };
  return table;
}

std::optional<std::string_view> resolver_operator(const packet::ip_address& ip) {
  for (const auto& r : public_resolvers())
    for (const auto& a : r.addresses)
      if (a == ip) return r.operator_name;
  return std::nullopt;
}

// "DNS over TLS" etc. for the port and protocol, when they carry encrypted DNS.
std::optional<std::string_view> encrypted_dns_kind(std::uint16_t port, std::uint8_t protocol, bool known_resolver) {
  const bool tcp = protocol == packet::proto_tcp;
  const bool udp = protocol == packet::proto_udp;
  if (port == 853 && tcp) return "DNS over TLS";
  if (port == 853 && udp) return "DNS over QUIC";
  if (port == 443 && known_resolver && tcp) return "DNS over HTTPS";
  if (port == 443 && known_resolver && udp) return "DNS over HTTPS (HTTP/3)";
  return std::nullopt;
}

}  // namespace

std::optional<packet::ip_address> parse_ip(std::string_view text) {
  if (text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  const std::string s(text);
  packet::ip_address ip;
  if (::inet_pton(AF_INET, s.c_str(), ip.bytes.data()) == 1) return ip;
  ip.v6 = true;
  if (::inet_pton(AF_INET6, s.c_str(), ip.bytes.data()) == 1) return ip;
  return std::nullopt;
}

bool in_prefix(const packet::ip_address& ip, const packet::ip_address& network, unsigned length) {
  return ip.v6 == network.v6 && network_of(ip, length) == network_of(network, length);
}

packet::ip_address network_of(packet::ip_address ip, unsigned length) {
  for (unsigned i = 0; i < ip.bytes.size(); ++i) {
    const unsigned first_bit = i * 8;
    if (length >= first_bit + 8) continue;
    const unsigned keep = length > first_bit ? length - first_bit : 0;
    ip.bytes[i] = static_cast<std::uint8_t>(ip.bytes[i] & (0xff00u >> keep));
  }
  return ip;
}

bool is_v4_mapped(const packet::ip_address& ip) {
  static const packet::ip_address mapped_net = parse_ip("::ffff:0.0.0.0").value_or(packet::ip_address{});
  return in_prefix(ip, mapped_net, 96);
}

packet::ip_address unmapped(const packet::ip_address& ip) {
  if (!is_v4_mapped(ip)) return ip;
  packet::ip_address v4;
  for (std::size_t i = 0; i < 4; ++i) v4.bytes[i] = ip.bytes[12 + i];
  return v4;
}

bool is_private(const packet::ip_address& ip) { return in_any(private_prefixes(), ip); }

bool is_metadata(const packet::ip_address& ip) { return in_any(metadata_prefixes(), ip); }

std::optional<std::string> encrypted_dns_endpoint(const packet::ip_address& ip, std::uint16_t port,
                                                  std::uint8_t protocol) {
  const auto who = resolver_operator(unmapped(ip));
  const auto kind = encrypted_dns_kind(port, protocol, who.has_value());
  if (!kind) return std::nullopt;
  return who ? std::string(*who) + " " + std::string(*kind) : std::string(*kind);
}

}  // namespace netpen::policy
