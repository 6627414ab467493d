// The services' side of the policy (see net/policy/policy.hpp) and of
// --interactive (net/policy/approval.hpp).
//
// The DNS forwarder asks about each question (a refused name gets NXDOMAIN
// at once) and every answer teaches the policy which addresses the tree's
// names stand for. Every new TCP, UDP or ping flow to the outside is judged
// once, before anything leaves; the verdict travels in the flow's record. A
// denial is one `denied` event naming the decision's reason code and rule.
//
// A destination the policy leaves open (`ask`) is put to the approver:
//   TCP   judge() waits for the answer before the flow connects; the
//         child's SYN retransmissions meanwhile are absorbed.
//   UDP,  the engine asks once per destination and drops packets while
//   ping  the question is out (the client's own retries carry on).
// The answer is remembered as it says (policy::remember_*): allow once lets
// one flow through, allow always this address or this name, deny (or no
// answer within --prompt-timeout) refuses the address for the rest of the
// run. Without an approver, `ask` is a denial. An approver that could ask
// nobody (unasked: a sandbox's exec without a terminal) denies this flow
// only, with reason interactive-unasked, and nothing is remembered.
//
// Claimed names (policy.hpp, docs/policy.md). In claim mode a TCP flow (or
// QUIC: UDP to 443) whose verdict by address is not final is judged by the
// name its first bytes claim: judge_claim runs policy::on_claim. When the
// name is allowed but the run never learned it at this address (a pinned
// client: curl --resolve, a cached address), netpen asks the sandbox's
// resolver itself, once, for the name's A and AAAA through the run's DNS
// forwarder (the overlay, then the upstreams), bounded by
// claim_lookup_timeout; the answer is learned like the tree's own (the
// forwarder's answer observer) but is not one of the tree's DNS events
// (they are published for the tree's queries only). Then on_claim decides
// again. `ask` shows the claimed name in the prompt; "allow name"
// remembers that name. A claim without a name is judged by address.
#include <asio/associated_executor.hpp>
#include <asio/co_spawn.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <fmt/format.h>

#include <atomic>

#include "net/common/asio_helpers.hpp"
#include "net/dns/exchange_event.hpp"
#include "net/policy/address_class.hpp"
#include "net/policy/answered.hpp"
#include "net/policy/encrypted_dns_names.hpp"
#include "net/relay/flow_services.hpp"
#include "net/relay/host_socket.hpp"

namespace netpen::relay {
namespace {

policy::decision verdict(policy::verdict v, std::string_view reason, std::string rule) {
  return policy::decision{v, std::string(reason), std::move(rule), {}};
}

// netpen's own lookup of a claimed name waits this long at most.
constexpr std::chrono::milliseconds claim_lookup_timeout{2000};

// "TLS SNI", "QUIC SNI" or "HTTP Host": where a claimed name was read.
std::string_view claim_origin(const sniff::claim& c) {
  if (c.sni.empty()) return "HTTP Host";
  return c.protocol == sniff::claim_protocol::quic ? "QUIC SNI" : "TLS SNI";
}

// The same for a decision on_claim made (its reason says SNI or Host).
std::string_view claim_origin(const policy::decision& d, const flow_key& key) {
  if (d.reason == policy::reason::host_mismatch || d.reason == policy::reason::host_not_allowed) return "HTTP Host";
  return key.protocol == packet::proto_udp ? "QUIC SNI" : "TLS SNI";
}

// The sentences of the denials that only flows (not DNS questions) get.
std::optional<std::string> flow_sentence(const policy::decision& d, const flow_key& key) {
  const auto where = endpoint_text(key.dst, key.dst_port);
  if (d.reason == policy::reason::sni_not_allowed || d.reason == policy::reason::host_not_allowed)
    return fmt::format("{} {} is not allowed", claim_origin(d, key), d.name);
  if (d.reason == policy::reason::sni_mismatch || d.reason == policy::reason::host_mismatch)
    return fmt::format("{} {} does not resolve to {} (allowed by {})", claim_origin(d, key), d.name,
                       to_string(key.dst), d.rule);
  if (d.reason != policy::reason::encrypted_dns) return std::nullopt;
  if (!d.name.empty())
    if (auto host = policy::encrypted_dns_host_for(d.name))
      return fmt::format("encrypted DNS: {} is a {} DNS-over-HTTPS/TLS endpoint (--allow {} to use it)", d.name,
                         host->provider, d.name);
  const auto what = policy::encrypted_dns_endpoint(key.dst, key.dst_port, key.protocol);
  return fmt::format("encrypted DNS: {} at {} (--allow {} to use it)", what.value_or("a resolver"), where,
                     to_string(key.dst));
}

// "deny rule *.evil.com (--deny)" and friends: the sentence of a denial.
std::string sentence(const policy::decision& d, const flow_key* key = nullptr) {
  if (key)
    if (auto s = flow_sentence(d, *key)) return *s;
  if (d.reason == policy::reason::offline) return "--offline: nothing leaves";
  if (d.reason == policy::reason::block_private) return "--block-private: a private address";
  if (d.reason == policy::reason::block_metadata) return "--block-metadata: a cloud metadata address";
  if (d.reason == policy::reason::deny_rule) return "deny rule " + d.rule;
  if (d.reason == policy::reason::interactive_deny || d.reason == policy::reason::interactive_unasked)
    return policy::interactive_denial_sentence(d);
  return "not allowed: no allow rule matches";
}

bool is_mismatch(const policy::decision& d) {
  return d.reason == policy::reason::sni_mismatch || d.reason == policy::reason::host_mismatch;
}

}  // namespace

policy::decision flow_services::verdict_now(const flow_key& key) const {
  if (!opts_.policy) return verdict(policy::verdict::allow, {}, {});
  return opts_.policy->on_connect(key.dst, key.dst_port, key.protocol, policy::policy::clock::now());
}

asio::awaitable<policy::approval> flow_services::answer_of(const flow_key& key, const claimed_name& claimed,
                                                           std::string& name) {
  // Only the answer (an enum) crosses the co_await: GCC 12 mishandles
  // class-type values captured around it (the claimed name is reached
  // through a pointer into the caller's frame and copied by ask(); the name
  // the answer is about is written through one before the answer is posted).
  const claimed_name* who = &claimed;
  std::string* named = &name;
  const policy::approval answer = co_await asio::async_initiate<decltype(asio::use_awaitable), void(policy::approval)>(
      [this, key, who, named](auto handler) {
        auto ex = asio::get_associated_executor(handler);  // the caller's strand
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        ask(
            key,
            [ex, h, named](policy::approval a, const std::string& n) {
              *named = n;
              asio::post(ex, [h, a]() mutable { std::move(*h)(a); });
            },
            *who);
      },
      asio::use_awaitable);
  co_return answer;
}

asio::awaitable<policy::decision> flow_services::judge(const flow_key& key) {
  auto d = verdict_now(key);
  if (d.what == policy::verdict::ask) {
    if (opts_.approver == nullptr) co_return verdict(policy::verdict::deny, policy::reason::not_allowed, {});
    static const claimed_name none{};
    std::string name;
    const policy::approval answer = co_await answer_of(key, none, name);
    d = answer_verdict(key, name, answer);  // this flow gets the answer itself, whatever was remembered
  }
  if (d.what == policy::verdict::allow) warn_if_encrypted_dns(key);
  co_return d;
}

bool flow_services::judged_by_claim(const flow_key& key) const {
  if (!opts_.policy || !opts_.policy->judges_claimed_names()) return false;
  const bool tcp = key.protocol == packet::proto_tcp;
  const bool quic = key.protocol == packet::proto_udp && key.dst_port == 443;
  return (tcp || quic) && !policy::policy::final_by_address(verdict_now(key));
}

policy::decision flow_services::claim_verdict_now(const flow_key& key, const std::string& name,
                                                  policy::claim_source source) const {
  return opts_.policy->on_claim(name, source, key.dst, key.dst_port, key.protocol, policy::policy::clock::now());
}

asio::awaitable<policy::decision> flow_services::judge_claim(const flow_key& key, const sniff::claim& claim) {
  if (!opts_.policy || claim.name().empty()) co_return co_await judge(key);
  if (auto by_address = verdict_now(key); policy::policy::final_by_address(by_address)) co_return by_address;
  const std::string name(claim.name());
  const auto source = claim.sni.empty() ? policy::claim_source::http_host : policy::claim_source::sni;
  auto d = claim_verdict_now(key, name, source);
  if (is_mismatch(d)) {
    co_await look_up_claimed(name);
    d = claim_verdict_now(key, name, source);
  }
  if (d.what == policy::verdict::ask) {
    if (opts_.approver == nullptr) {
      d.what = policy::verdict::deny;
      d.reason = source == policy::claim_source::sni ? policy::reason::sni_not_allowed
                                                     : policy::reason::host_not_allowed;
    } else {
      const claimed_name who{name, std::string(claim_origin(claim))};
      std::string answered_name;
      const policy::approval answer = co_await answer_of(key, who, answered_name);
      d = answer_verdict(key, name, answer);
      d.name = name;
    }
  }
  if (d.what == policy::verdict::allow) warn_if_encrypted_dns(key);
  co_return d;
}

policy::decision flow_services::answer_verdict(const flow_key& key, const std::string& name, policy::approval a) {
  return policy::answered_decision(a, to_string(key.dst), name);
}

// Both questions (A, AAAA) run on the services' context; the caller waits
// on its own strand for both or the timeout, whichever comes first.
asio::awaitable<void> flow_services::look_up_claimed(const std::string& name) {
  if (stopping_.load() || !dns_) co_return;
  struct lookup {
    explicit lookup(asio::any_io_executor ex) : done(std::move(ex), claim_lookup_timeout) {}
    asio::steady_timer done;  // the caller's strand only
    std::atomic<int> left{2};
  };
  const auto ex = co_await asio::this_coro::executor;
  auto state = std::make_shared<lookup>(ex);
  static std::atomic<std::uint16_t> next_id{0x4e50};
  for (const auto type : {dns::type_a, dns::type_aaaa}) {
    auto query = dns::make_address_query(next_id.fetch_add(1), name, type);
    if (!query) co_return;
    asio::co_spawn(
        ctx_.get_executor(),
        [this, state, ex, q = std::move(*query)]() mutable -> asio::awaitable<void> {
          co_await dns_->answer(std::move(q), dns::transport::udp);  // learned by the answer observer
          if (state->left.fetch_sub(1) == 1)
            asio::post(ex, [state] { state->done.expires_at(asio::steady_timer::time_point::min()); });
        },
        log_failure("netpen's lookup of a claimed name"));
  }
  co_await state->done.async_wait(use_tuple);
}

void flow_services::ask(const flow_key& key, answered_fn answered, claimed_name claimed) {
  asio::post(events_, [this, key, answered = std::move(answered), claimed = std::move(claimed)]() mutable {
    auto request = approval_request_for(key);
    request.claimed_name = claimed.name;
    request.claimed_by = claimed.origin;
    auto names = claimed.name.empty() ? request.names : std::vector<std::string>{claimed.name};
    opts_.approver->ask(std::move(request),
                        [this, key, names, answered = std::move(answered)](policy::approval a) {
                          remember_answer(key, names, a);
                          answered(a, names.empty() ? std::string() : names.front());
                        });
  });
}

policy::decision flow_services::unasked_denial() {
  return policy::answered_decision(policy::approval::unasked, {}, {});
}

policy::approval_request flow_services::approval_request_for(const flow_key& key) {
  policy::approval_request r;
  r.protocol = key.protocol;
  r.address = key.dst;
  const bool icmp = key.protocol == packet::proto_icmp || key.protocol == packet::proto_icmpv6;
  r.port = icmp ? 0 : key.dst_port;
  r.destination = icmp ? to_string(key.dst) : endpoint_text(key.dst, key.dst_port);
  r.names = opts_.policy->names_for(key.dst, policy::policy::clock::now());
  if (finder_) {  // events_ strand: the owners table lives there
    auto it = owners_.find(key);
    if (it == owners_.end()) it = owners_.emplace(key, finder_->find(key)).first;
    if (it->second) {
      r.process = events::to_text(*it->second);
      r.pid = it->second->pid;
    }
  }
  return r;
}

void flow_services::remember_answer(const flow_key& key, const std::vector<std::string>& names, policy::approval a) {
  switch (a) {
    case policy::approval::allow_once:
      return;  // this flow only
    case policy::approval::allow_name:
      if (!names.empty()) {
        opts_.policy->remember_domain(names.front(), policy::verdict::allow);
        return;
      }
      [[fallthrough]];
    case policy::approval::allow_address:
      opts_.policy->remember_ip(key.dst, std::nullopt, policy::verdict::allow);
      return;
    case policy::approval::unasked:
      return;  // nothing was decided: the next flow asks again
    case policy::approval::deny:
      opts_.policy->remember_ip(key.dst, std::nullopt, policy::verdict::deny);
      return;
    case policy::approval::timeout:
      opts_.policy->remember_ip(key.dst, std::nullopt, policy::verdict::deny, policy::no_answer_origin);
      return;
  }
}

void flow_services::denied(const flow_key& key, const policy::decision& d) { denied(key, d, sniff::claim{}); }

void flow_services::denied(const flow_key& key, const policy::decision& d, const sniff::claim& claim) {
  flow_record record;
  record.claim = claim;  // the event shows what the refused flow claimed
  auto e = flow_event(events::kind::denied, key, record);
  e.via.clear();  // it went nowhere
  e.reason = sentence(d, &key);
  e.policy = d.reason;
  e.rule = d.rule;
  if (!d.name.empty()) e.name = d.name;  // the claimed name, or the learned one a rule matched through
  report(std::move(e), key, true);
}

void flow_services::warn_if_encrypted_dns(const flow_key& key) {
  if (!opts_.policy) return;
  const auto what = policy::encrypted_dns_endpoint(key.dst, key.dst_port, key.protocol);
  if (!what) return;
  const auto destination = endpoint_text(key.dst, key.dst_port);
  {
    const std::lock_guard lock(encrypted_dns_mutex_);
    if (!encrypted_dns_warned_.insert(destination).second) return;
  }
  auto e = flow_event(events::kind::warning, key, flow_record{});
  e.via.clear();
  e.reason = fmt::format("{}: names resolved there bypass the name policy", *what);
  report(std::move(e), key, false);
}

bool flow_services::query_allowed(const std::string& qname, std::uint16_t qtype) {
  const auto d = opts_.policy->on_query(qname);
  if (d.what != policy::verdict::deny) return true;
  events::event e;
  e.what = events::kind::denied;
  e.protocol = "dns";
  e.name = qname;
  e.query = qname;
  e.query_type = dns::type_name(qtype);  // A and AAAA are two questions: the line says which
  e.reason = sentence(d);
  e.policy = d.reason;
  e.rule = d.rule;
  emit(std::move(e));
  return false;
}

void flow_services::learn_names(const std::string& qname, const std::vector<dns::answer_record>& records) {
  if (!opts_.policy) return;
  std::vector<packet::ip_address> addresses;
  std::uint32_t ttl = 0;
  bool first = true;
  for (const auto& r : records) {
    if (r.type != dns::type_a && r.type != dns::type_aaaa) continue;
    addresses.push_back(from_asio(r.address));
    ttl = first ? r.ttl : std::min(ttl, r.ttl);
    first = false;
  }
  if (!addresses.empty()) opts_.policy->learn(qname, addresses, ttl, policy::policy::clock::now());
}

}  // namespace netpen::relay
