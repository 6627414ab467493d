// The well-known encrypted-DNS hostnames (see encrypted_dns_names.hpp).
// Keep the list readable: one endpoint a line, grouped by provider; a
// "*." entry matches the provider's per-user subdomains, not the apex.
#include "net/policy/encrypted_dns_names.hpp"

#include <array>

namespace netpen::policy {
namespace {

constexpr std::array hosts{
    encrypted_dns_host{"dns.google", "Google Public DNS"},
    encrypted_dns_host{"dns.google.com", "Google Public DNS"},
    encrypted_dns_host{"dns64.dns.google", "Google Public DNS"},
    encrypted_dns_host{"cloudflare-dns.com", "Cloudflare"},
    encrypted_dns_host{"mozilla.cloudflare-dns.com", "Cloudflare"},
    encrypted_dns_host{"chrome.cloudflare-dns.com", "Cloudflare"},
    encrypted_dns_host{"security.cloudflare-dns.com", "Cloudflare"},
    encrypted_dns_host{"family.cloudflare-dns.com", "Cloudflare"},
    encrypted_dns_host{"1dot1dot1dot1.cloudflare-dns.com", "Cloudflare"},
    encrypted_dns_host{"one.one.one.one", "Cloudflare"},
    encrypted_dns_host{"*.cloudflare-gateway.com", "Cloudflare Gateway"},
    encrypted_dns_host{"dns.quad9.net", "Quad9"},
    encrypted_dns_host{"dns9.quad9.net", "Quad9"},
    encrypted_dns_host{"dns10.quad9.net", "Quad9"},
    encrypted_dns_host{"dns11.quad9.net", "Quad9"},
    encrypted_dns_host{"doh.opendns.com", "OpenDNS"},
    encrypted_dns_host{"doh.familyshield.opendns.com", "OpenDNS"},
    encrypted_dns_host{"dns.umbrella.com", "Cisco Umbrella"},
    encrypted_dns_host{"doh.umbrella.com", "Cisco Umbrella"},
    encrypted_dns_host{"dns.adguard-dns.com", "AdGuard DNS"},
    encrypted_dns_host{"dns.adguard.com", "AdGuard DNS"},
    encrypted_dns_host{"family.adguard-dns.com", "AdGuard DNS"},
    encrypted_dns_host{"unfiltered.adguard-dns.com", "AdGuard DNS"},
    encrypted_dns_host{"*.d.adguard-dns.com", "AdGuard DNS"},
    encrypted_dns_host{"dns.nextdns.io", "NextDNS"},
    encrypted_dns_host{"*.dns.nextdns.io", "NextDNS"},
    encrypted_dns_host{"doh.cleanbrowsing.org", "CleanBrowsing"},
    encrypted_dns_host{"family-filter-dns.cleanbrowsing.org", "CleanBrowsing"},
    encrypted_dns_host{"adult-filter-dns.cleanbrowsing.org", "CleanBrowsing"},
    encrypted_dns_host{"security-filter-dns.cleanbrowsing.org", "CleanBrowsing"},
    encrypted_dns_host{"dns.mullvad.net", "Mullvad DNS"},
    encrypted_dns_host{"adblock.dns.mullvad.net", "Mullvad DNS"},
    encrypted_dns_host{"base.dns.mullvad.net", "Mullvad DNS"},
    encrypted_dns_host{"dns.controld.com", "Control D"},
    encrypted_dns_host{"freedns.controld.com", "Control D"},
    encrypted_dns_host{"doh.xfinity.com", "Comcast Xfinity"},
    encrypted_dns_host{"doh.dns.sb", "DNS.SB"},
    encrypted_dns_host{"dns.alidns.com", "AliDNS"},
    encrypted_dns_host{"doh.pub", "DNSPod"},
    encrypted_dns_host{"dns.switch.ch", "SWITCH"},
    encrypted_dns_host{"doh.libredns.gr", "LibreDNS"},
};

bool matches(std::string_view entry, std::string_view name) {
  if (!entry.starts_with("*.")) return entry == name;
  const auto parent = entry.substr(2);
  return name.size() > parent.size() + 1 && name.ends_with(parent) && name[name.size() - parent.size() - 1] == '.';
}

}  // namespace

std::span<const encrypted_dns_host> encrypted_dns_hosts() { return hosts; }

std::optional<encrypted_dns_host> encrypted_dns_host_for(std::string_view name) {
  for (const auto& h : hosts)
    if (matches(h.name, name)) return h;
  return std::nullopt;
}

}  // namespace netpen::policy
