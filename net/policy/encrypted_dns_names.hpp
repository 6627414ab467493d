// The shipped list of well-known encrypted-DNS hostnames: the names that
// DNS-over-HTTPS (DoH), DNS-over-TLS (DoT) and DNS-over-QUIC (DoQ) clients
// put in their TLS/QUIC SNI (browsers' built-in resolvers, systemd-resolved,
// Android's Private DNS, curl --doh-url ...). A tree that reaches one of
// them resolves names where the name policy cannot see, so under an
// allow-list the policy refuses them ("encrypted-dns") unless an exact
// domain allow rule names the host (net/policy/policy.hpp, docs/policy.md).
// The addresses of the same public resolvers are in address_class.hpp.
// Pure: no I/O.
#pragma once
#include <optional>
#include <span>
#include <string_view>

namespace netpen::policy {

struct encrypted_dns_host {
  std::string_view name;      // "dns.google"; "*.dns.nextdns.io": subdomains only (per-user endpoints)
  std::string_view provider;  // "Google Public DNS"
};

// The whole list, in the order docs/policy.md shows it.
std::span<const encrypted_dns_host> encrypted_dns_hosts();

// The list's entry for a canonical name (lowercase, no trailing dot), or
// nullopt when the name is not a well-known encrypted-DNS endpoint.
std::optional<encrypted_dns_host> encrypted_dns_host_for(std::string_view name);

}  // namespace netpen::policy
