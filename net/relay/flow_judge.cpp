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
#include <asio/associated_executor.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "net/policy/address_class.hpp"
#include "net/relay/flow_services.hpp"
#include "net/relay/host_socket.hpp"

namespace netpen::relay {
namespace {

policy::decision verdict(policy::verdict v, std::string_view reason, std::string rule) {
  return policy::decision{v, std::string(reason), std::move(rule), {}};
}

// "deny rule *.evil.com (--deny)" and friends: the sentence of a denial.
std::string sentence(const policy::decision& d) {
  if (d.reason == policy::reason::offline) return "--offline: nothing leaves";
  if (d.reason == policy::reason::block_private) return "--block-private: a private address";
  if (d.reason == policy::reason::block_metadata) return "--block-metadata: a cloud metadata address";
  if (d.reason == policy::reason::deny_rule) return "deny rule " + d.rule;
  if (d.reason == policy::reason::interactive_deny) return "denied earlier in this run";
  if (d.reason == policy::reason::interactive_unasked)
    return "--interactive: no terminal to ask on (the process's exec has none, has ended, or is unknown)";
  return "not allowed: no allow rule matches";
}

}  // namespace

policy::decision flow_services::verdict_now(const flow_key& key) const {
  if (!opts_.policy) return verdict(policy::verdict::allow, {}, {});
  return opts_.policy->on_connect(key.dst, key.dst_port, key.protocol, policy::policy::clock::now());
}

asio::awaitable<policy::decision> flow_services::judge(const flow_key& key) {
  auto d = verdict_now(key);
  if (d.what == policy::verdict::ask) {
    if (opts_.approver == nullptr) co_return verdict(policy::verdict::deny, policy::reason::not_allowed, {});
    // Only the answer (an enum) crosses the co_await: GCC 12 mishandles
    // class-type values captured around it.
    const policy::approval answer = co_await asio::async_initiate<decltype(asio::use_awaitable),
                                                                 void(policy::approval)>(
        [this, key](auto handler) {
          auto ex = asio::get_associated_executor(handler);  // the caller's strand
          auto h = std::make_shared<decltype(handler)>(std::move(handler));
          ask(key, [ex, h](policy::approval a) { asio::post(ex, [h, a]() mutable { std::move(*h)(a); }); });
        },
        asio::use_awaitable);
    if (answer == policy::approval::allow_once) {
      d = verdict(policy::verdict::allow, policy::reason::interactive_allow, to_string(key.dst) + " (once)");
    } else if (answer == policy::approval::unasked) {
      d = unasked_denial();
    } else {
      d = verdict_now(key);
      if (d.what == policy::verdict::ask) d = verdict(policy::verdict::deny, policy::reason::interactive_deny, {});
    }
  }
  if (d.what == policy::verdict::allow) warn_if_encrypted_dns(key);
  co_return d;
}

// Not yet: every flow is judged by address (issue 19 work in progress).
bool flow_services::judged_by_claim(const flow_key&) const { return false; }

asio::awaitable<policy::decision> flow_services::judge_claim(const flow_key& key, const sniff::claim&) {
  co_return co_await judge(key);
}

void flow_services::ask(const flow_key& key, std::function<void(policy::approval)> answered) {
  asio::post(events_, [this, key, answered = std::move(answered)]() mutable {
    auto request = approval_request_for(key);
    auto names = request.names;
    opts_.approver->ask(std::move(request),
                        [this, key, names, answered = std::move(answered)](policy::approval a) {
                          remember_answer(key, names, a);
                          answered(a);
                        });
  });
}

policy::decision flow_services::unasked_denial() {
  return verdict(policy::verdict::deny, policy::reason::interactive_unasked, {});
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
    case policy::approval::timeout:
      opts_.policy->remember_ip(key.dst, std::nullopt, policy::verdict::deny);
      return;
  }
}

void flow_services::denied(const flow_key& key, const policy::decision& d) { denied(key, d, sniff::claim{}); }

void flow_services::denied(const flow_key& key, const policy::decision& d, const sniff::claim& claim) {
  flow_record record;
  record.claim = claim;  // the event shows what the refused flow claimed
  auto e = flow_event(events::kind::denied, key, record);
  e.via.clear();  // it went nowhere
  e.reason = sentence(d);
  e.policy = d.reason;
  e.rule = d.rule;
  if (!e.name && !d.name.empty()) e.name = d.name;
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

bool flow_services::query_allowed(const std::string& qname) {
  const auto d = opts_.policy->on_query(qname);
  if (d.what != policy::verdict::deny) return true;
  events::event e;
  e.what = events::kind::denied;
  e.protocol = "dns";
  e.name = qname;
  e.query = qname;
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
