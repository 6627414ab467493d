// Allow/deny list entry syntax: domains, wildcards, addresses, CIDRs, ports.
#include "app/cli/policy_entry.hpp"

#include "app/cli/validators.hpp"
#include "net/policy/address_class.hpp"

namespace netpen::app::cli {
namespace {

std::string in_quotes(std::string_view s) { return "'" + std::string(s) + "'"; }

unexpected<error> bad_entry(std::string_view text, std::string_view why = {}) {
  std::string msg = in_quotes(text) + " is not a domain, *.domain, IP address or CIDR";
  if (!why.empty()) msg = in_quotes(text) + ": " + std::string(why);
  return fail("bad-value", msg);
}

// Address or CIDR without port; v6_only when the text came from brackets.
result<policy_entry> parse_address_part(std::string_view whole, std::string_view addr, bool v6_only) {
  auto slash = addr.find('/');
  auto ip = policy::parse_ip(addr.substr(0, slash));
  if (!ip || (v6_only && !ip->v6)) return bad_entry(whole);
  unsigned max_prefix = ip->v6 ? 128 : 32;
  unsigned prefix = max_prefix;
  if (slash != std::string_view::npos) {
    std::string_view p = addr.substr(slash + 1);
    bool digits = !p.empty() && p.size() <= 3;
    for (char c : p) digits = digits && c >= '0' && c <= '9';
    if (!digits) return bad_entry(whole, in_quotes(p) + " is not a prefix length");
    prefix = 0;
    for (char c : p) prefix = prefix * 10 + static_cast<unsigned>(c - '0');
    if (prefix > max_prefix)
      return bad_entry(whole, "prefix length " + std::string(p) + " is more than " + std::to_string(max_prefix));
  }
  return policy::address_rule(*ip, prefix);
}

// The part before the port: address, CIDR, *.domain or domain.
result<policy_entry> parse_host_part(std::string_view whole, std::string_view host, bool bracketed) {
  if (bracketed || host.find(':') != std::string_view::npos) return parse_address_part(whole, host, true);
  if (is_ipv4(host.substr(0, host.find('/'))) || host.find('/') != std::string_view::npos)
    return parse_address_part(whole, host, false);
  if (host.starts_with("*.")) {
    if (!is_domain_name(host.substr(2))) return bad_entry(whole);
    return policy::wildcard_rule(host.substr(2));
  }
  if (is_domain_name(host)) return policy::domain_rule(host);
  return bad_entry(whole);
}

}  // namespace

result<policy_entry> parse_policy_entry(std::string_view text) {
  if (text.empty()) return fail("bad-value", "empty entry");
  std::string_view host = text;
  std::optional<std::string_view> port_text;
  bool bracketed = false;
  if (text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return bad_entry(text, "missing ']'");
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return bad_entry(text);
      port_text = rest.substr(1);
    }
    bracketed = true;
  } else if (auto colon = text.find(':'); colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }

  auto entry = parse_host_part(text, host, bracketed);
  if (!entry || !port_text) return entry;
  auto port = parse_port(*port_text);
  if (!port) return bad_entry(text, in_quotes(*port_text) + " is not a port (1-65535)");
  entry->port = *port;
  entry->text = policy::rule_text(*entry);
  return entry;
}

result<std::vector<policy_entry>> parse_policy_list(std::string_view flag, std::string_view text) {
  std::vector<policy_entry> out;
  for (std::string_view item : split_list(text)) {
    if (item.empty()) return bad_value(flag, "empty entry in " + in_quotes(text));
    auto entry = parse_policy_entry(item);
    if (!entry) return bad_value(flag, entry.error().message);
    entry->origin = std::string(flag);
    out.push_back(std::move(*entry));
  }
  return out;
}

result<std::vector<policy_entry>> parse_policy_file(std::string_view flag, std::string_view path,
                                                    std::string_view contents) {
  std::vector<policy_entry> out;
  std::size_t line_no = 0;
  while (!contents.empty()) {
    ++line_no;
    auto nl = contents.find('\n');
    std::string_view line = contents.substr(0, nl);
    contents.remove_prefix(nl == std::string_view::npos ? contents.size() : nl + 1);
    line = trim(line.substr(0, line.find('#')));
    if (line.empty()) continue;
    const std::string where = std::string(path) + ":" + std::to_string(line_no);
    auto entry = parse_policy_entry(line);
    if (!entry) return bad_value(flag, where + ": " + entry.error().message);
    entry->origin = where;
    out.push_back(std::move(*entry));
  }
  return out;
}

}  // namespace netpen::app::cli
