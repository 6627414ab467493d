// The policy engine: decides DNS questions and new flows from the run's
// policy flags, allow/deny rules, what the tree's DNS answers taught it and
// the decisions remembered in an interactive run. Pure: no I/O, no clock
// (time is passed in); the relay and the DNS forwarder call it.
//
// Theory of operation
// -------------------
// Default: allow, unless any allow rule is given (then deny); an explicit
// default overrides that; --interactive means deny-and-ask. The blocks win
// over every rule, a deny rule wins over an allow rule, and a decision
// remembered in an interactive run counts only where no rule decides. A rule
// with a port matches that port only (never ICMP). Names are compared
// lowercase without a trailing dot; a flow's destination is judged as its
// IPv4 form when it is an IPv4-mapped IPv6 address.
//
// on_connect(ip, port): the first of these that applies decides.
//   1. --offline                                      deny  "offline"
//   2. --block-metadata and a metadata address        deny  "block-metadata"
//   3. --block-private and a private address          deny  "block-private"
//   4. a deny address/CIDR rule matching ip:port      deny  "deny-rule"
//   5. a deny domain/wildcard rule matching a name that resolved to ip in
//      this run (TTL still running), port matching   deny  "deny-rule"
//   6. under an allow-list (any allow rule, default deny), a well-known
//      encrypted-DNS endpoint (encrypted_dns_endpoint: port 853, or 443 at
//      a public resolver's address) that no allow rule names explicitly:
//      an address rule of exactly ip, or an exact domain rule (not a
//      wildcard) for a name that resolved to ip     deny  "encrypted-dns"
//   7. an allow address/CIDR rule matching ip:port    allow "allow-rule"
//   8. an allow domain/wildcard rule matching such a name   allow "allowed-name"
//   9. a remembered interactive deny, then allow (this IP, this IP:port, or
//      a remembered domain that resolved to ip)       "interactive-deny" / "interactive-allow"
//  10. the default: allow "default-allow"; with --interactive ask "ask";
//      otherwise deny "not-allowed".
// So an IP is allowed by name only because an allowed name resolved to it;
// a direct connection to an IP no allowed name produced is denied under
// default deny. Names are learned per address: two names sharing an address
// (CDNs) share its verdict, a limit of judging flows by address that the
// claimed-name rule below lifts for TCP and QUIC.
//
// Claimed names. When any allow or deny rule names a domain,
// judges_claimed_names() is true (--interactive alone does not: it asks at
// the SYN, so a refusal stays a fast connection refused): a new TCP flow (any port)
// or QUIC flow (UDP to 443) is first judged by address (on_connect). If
// that verdict is final_by_address (steps 1-4 and 6 above: --offline, a
// block, a deny rule by address/CIDR, encrypted DNS by address) it stands;
// otherwise the relay reads the flow's first bytes and, when they claim a
// name (TLS/QUIC SNI, else HTTP Host), the name decides through
// on_claim(name, source, ip, port): the first of these that applies.
//   0. the blocks and a deny address/CIDR rule, as on_connect (final anyway)
//   1. a deny domain/wildcard rule matching the name, port matching
//                                                     deny  "deny-rule"
//   2. under an allow-list, the name is a well-known DoH/DoT/DoQ hostname
//      (encrypted_dns_names.hpp) and no exact domain allow rule names it;
//      or the destination is an encrypted-DNS endpoint by address that no
//      exact address rule (nor an exact domain rule for the name) names
//                                                     deny  "encrypted-dns"
//   3. an allow domain/wildcard rule matching the name, port matching:
//      the run learned name -> ip (resolves_to)       allow "allowed-name"
//      else                                           deny  "sni-mismatch" / "host-mismatch"
//      (the caller may ask the sandbox's resolver for the name, learn()
//      the answer and ask again before refusing: pinned clients work)
//   4. an allow address/CIDR rule matching ip:port    allow "allow-rule"
//   5. remembered interactive answers: the claimed name (deny; allow only
//      if name -> ip was learned, else the mismatch as in 3), then this
//      address                                        "interactive-deny" / "interactive-allow"
//   6. the default: allow "default-allow"; with --interactive ask "ask";
//      otherwise deny "sni-not-allowed" / "host-not-allowed".
// Every on_claim decision carries the claimed name in decision::name. So a
// name that is denied or not allowed is refused even at an allowed address
// (domain fronting), and an allowed name is let through only to one of its
// own addresses. A flow that claims nothing keeps its verdict by address.
//
// on_query(name): the first of these that applies decides.
//   1. --offline                                      deny  "offline"
//   2. a deny domain/wildcard rule without a port matching name
//      (a deny rule with a port does not block resolution)  deny "deny-rule"
//   3. an allow domain/wildcard rule matching name, any port   allow "allow-rule"
//   4. a remembered interactive domain decision       "interactive-deny" / "interactive-allow"
//   5. default allow                                  allow "default-allow"
//   6. --interactive (the prompt can then show the name), or any allow
//      address/CIDR rule (connections are judged by address)   allow "resolve-only"
//   7. otherwise                                      deny  "not-allowed"
// Domain match: "example.com" is that name only; "*.example.com" matches
// a.example.com and a.b.example.com, not example.com.
//
// learn(name, addresses, ttl): each binding is valid for ttl seconds from
// now (ttl 0: one second, so the connect that follows the answer works). The
// table keeps at most policy_config::learned_limit bindings; past that, the
// one learned or refreshed longest ago is dropped.
//
// Threads: on_query, on_connect, on_claim, resolves_to, names_for and
// default_allow may be called from several threads at once; learn and remember_* take an exclusive lock.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "net/packet/frame.hpp"
#include "net/policy/learned_names.hpp"
#include "net/policy/rule.hpp"

namespace netpen::policy {

struct policy_config {
  bool offline = false, block_private = false, block_metadata = false;
  std::vector<rule> allow, deny;
  std::optional<bool> default_allow;  // unset: deny iff any allow rule
  bool interactive = false;           // default deny, unknown destinations get `ask` (wins over default_allow)
  std::size_t learned_limit = 65536;  // name -> address bindings kept
};

enum class verdict { allow, deny, ask };  // ask: only with interactive, for a destination no rule decides

// The stable reason codes of decisions (events, summaries, --fail-on-leak).
namespace reason {
inline constexpr std::string_view offline = "offline";
inline constexpr std::string_view block_metadata = "block-metadata";
inline constexpr std::string_view block_private = "block-private";
inline constexpr std::string_view deny_rule = "deny-rule";
inline constexpr std::string_view allow_rule = "allow-rule";
inline constexpr std::string_view allowed_name = "allowed-name";
inline constexpr std::string_view interactive_allow = "interactive-allow";
inline constexpr std::string_view interactive_deny = "interactive-deny";
inline constexpr std::string_view interactive_unasked = "interactive-unasked";  // no terminal to ask on
inline constexpr std::string_view default_allow = "default-allow";
inline constexpr std::string_view not_allowed = "not-allowed";
inline constexpr std::string_view ask = "ask";
inline constexpr std::string_view resolve_only = "resolve-only";
// Claimed names (on_claim): the name is allowed but the destination is not
// one of its addresses; the name is not allowed at all.
inline constexpr std::string_view sni_mismatch = "sni-mismatch";
inline constexpr std::string_view host_mismatch = "host-mismatch";
inline constexpr std::string_view sni_not_allowed = "sni-not-allowed";
inline constexpr std::string_view host_not_allowed = "host-not-allowed";
// A well-known DNS-over-HTTPS/TLS/QUIC endpoint under an allow-list that
// does not name it explicitly.
inline constexpr std::string_view encrypted_dns = "encrypted-dns";
}  // namespace reason

// Where a claimed name came from (it picks the reason codes).
enum class claim_source { sni, http_host };

struct decision {
  verdict what = verdict::deny;
  std::string reason;  // one of policy::reason
  std::string rule;    // the matched rule: "*.example.com:443 (--allow)"; empty when none
  std::string name;    // the learned name through which a name rule matched a flow; else empty
  bool answered_now = false;  // an --interactive answer to this flow's own question (answered.hpp), not a remembered one
};

class policy {
 public:
  using clock = std::chrono::steady_clock;

  explicit policy(policy_config c);

  // A DNS question for `name` (compared lowercase, without a trailing dot).
  decision on_query(std::string_view name) const;

  // The tree's DNS answer for `name` gave these addresses, valid for ttl_s
  // seconds from now. Call it for every name the answer vouches for (the
  // question; CNAME targets if they should count too).
  void learn(std::string_view name, std::span<const packet::ip_address> addresses, std::uint32_t ttl_s,
             clock::time_point now);

  // A new flow to ip:port (port ignored for ICMP); protocol packet::proto_tcp/udp/icmp/icmpv6.
  decision on_connect(const packet::ip_address& ip, std::uint16_t port, std::uint8_t protocol,
                      clock::time_point now) const;

  // Claimed names. judges_claimed_names(): some rule names a domain (or the
  // run is --interactive), so a TCP flow (and QUIC on UDP/443) is judged by
  // the name its first bytes claim where it shows one.
  bool judges_claimed_names() const;
  // Whether a flow's verdict by address (on_connect) is final even if the
  // flow later claims a name: --offline, a block, a deny rule by address or
  // CIDR. Otherwise the claimed name decides (on_claim).
  static bool final_by_address(const decision& by_address);
  // The verdict on a flow to ip:port that claims `name` (see the theory
  // above; the order is in policy.cpp): a deny rule for the name refuses;
  // an allow rule for the name allows only if the run learned `name` ->
  // ip (sni/host-mismatch otherwise: the caller may ask the resolver and
  // learn() before asking again); an allow rule by address allows; then
  // remembered answers; then the default (sni/host-not-allowed, or ask).
  decision on_claim(std::string_view name, claim_source source, const packet::ip_address& ip,
                    std::uint16_t port, std::uint8_t protocol, clock::time_point now) const;
  // True if the run learned `name` -> ip and it is still valid.
  bool resolves_to(std::string_view name, const packet::ip_address& ip, clock::time_point now) const;

  // Interactive decisions remembered for the run (verdict::ask is ignored):
  // this IP (one port, or every port when port is unset), or a domain and
  // every address it resolves to in the run.
  // `origin` is what the rule says it came from ("interactive", "no answer").
  void remember_ip(const packet::ip_address& ip, std::optional<std::uint16_t> port, verdict v,
                   std::string_view origin = "interactive");
  void remember_domain(std::string_view name, verdict v);

  // The names the run learned for ip that are still valid, most recent first.
  std::vector<std::string> names_for(const packet::ip_address& ip, clock::time_point now) const;

  bool default_allow() const { return default_allow_; }
  // Whether a verdict by address (a block, an address rule, the default)
  // can turn around later in the run: a deny rule by name matches once the
  // tree learns such a name for the address, and an interactive answer is
  // remembered. Callers that cache verdicts must not when it can.
  bool address_verdicts_can_change() const;
  const policy_config& config() const { return config_; }

 private:
  std::optional<decision> blocked(const packet::ip_address& ip) const;
  // "encrypted-dns" refusals (mutex_ held): a well-known endpoint by
  // address that no allow rule names explicitly (an exact address rule, or
  // an exact domain rule for one of `names`), and by claimed name.
  std::optional<decision> encrypted_dns_by_address(const packet::ip_address& ip, std::uint16_t port,
                                                   std::uint8_t protocol, const std::vector<std::string>& names) const;
  std::optional<decision> encrypted_dns_by_claim(const std::string& name, const packet::ip_address& ip,
                                                 std::uint16_t port, std::uint8_t protocol) const;
  std::optional<decision> by_memory(const packet::ip_address& ip, std::uint16_t port,
                                    const std::vector<std::string>& names) const;
  decision fallback_connect() const;
  decision fallback_query() const;
  decision fallback_claim(claim_source source) const;
  static std::string_view mismatch(claim_source source);
  void remember(rule r, verdict v, std::string_view origin = "interactive");

  const policy_config config_;
  const bool default_allow_;
  const bool any_address_allow_;
  const bool claim_mode_;              // judges_claimed_names()
  const bool refuses_encrypted_dns_;   // an allow-list under default deny
  mutable std::shared_mutex mutex_;
  learned_names learned_;
  std::vector<rule> remembered_deny_, remembered_allow_;
};

}  // namespace netpen::policy
