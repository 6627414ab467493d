// --interactive in the relay (see net/policy/approval.hpp). A destination
// the policy leaves open (`ask`) is put to the approver:
//   TCP   the flow's coroutine waits for the answer before connecting; the
//         child's SYN retransmissions meanwhile reach the silent endpoint
//         and are absorbed. Other flows keep running.
//   UDP,  the first packet starts one question per destination; packets
//   ping  are dropped while it is out (the client's own retries carry on).
// The answer is remembered as it says (policy::remember_*): allow once
// lets one flow through, allow always this address or this name, deny (or
// no answer within --prompt-timeout) refuses the address for the rest of
// the run. Without an approver, `ask` is a denial.
#include <asio/associated_executor.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

#include "net/relay/engine.hpp"

namespace netpen::relay {
namespace {

policy::decision verdict(policy::verdict v, std::string_view reason, std::string rule) {
  return policy::decision{v, std::string(reason), std::move(rule), {}};
}

}  // namespace

policy::approval_request engine::approval_request_for(const flow_key& key) {
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
    if (it->second) r.process = events::to_text(*it->second);
  }
  return r;
}

void engine::remember_answer(const flow_key& key, const std::vector<std::string>& names, policy::approval a) {
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
    case policy::approval::deny:
    case policy::approval::timeout:
      opts_.policy->remember_ip(key.dst, std::nullopt, policy::verdict::deny);
      return;
  }
}

asio::awaitable<policy::decision> engine::judge(const flow_key& key) {
  if (!opts_.policy) co_return verdict(policy::verdict::allow, {}, {});
  auto d = opts_.policy->on_connect(key.dst, key.dst_port, key.protocol, policy::policy::clock::now());
  if (d.what != policy::verdict::ask) co_return d;
  if (opts_.approver == nullptr) co_return verdict(policy::verdict::deny, policy::reason::not_allowed, {});
  // Only the answer (an enum) crosses the co_await: GCC 12 mishandles
  // class-type values captured around it. The request is built, and the
  // answer remembered, on the events strand.
  const policy::approval answer = co_await asio::async_initiate<decltype(asio::use_awaitable),
                                                               void(policy::approval)>(
      [this, key](auto handler) {
        auto ex = asio::get_associated_executor(handler);  // the flow's strand
        auto h = std::make_shared<decltype(handler)>(std::move(handler));
        asio::post(events_, [this, ex, key, h] {
          auto request = approval_request_for(key);
          auto names = request.names;
          opts_.approver->ask(std::move(request), [this, ex, key, h, names](policy::approval a) {
            remember_answer(key, names, a);
            asio::post(ex, [h, a]() mutable { std::move(*h)(a); });
          });
        });
      },
      asio::use_awaitable);
  if (answer == policy::approval::allow_once)
    co_return verdict(policy::verdict::allow, policy::reason::interactive_allow, to_string(key.dst) + " (once)");
  d = opts_.policy->on_connect(key.dst, key.dst_port, key.protocol, policy::policy::clock::now());
  if (d.what == policy::verdict::ask) d = verdict(policy::verdict::deny, policy::reason::interactive_deny, {});
  co_return d;
}

void engine::ask_for_datagram(const flow_key& key) {
  const std::string destination = to_string(key.dst) + "/" + std::to_string(key.protocol) + ":" +
                                  std::to_string(key.dst_port);
  if (!asking_.insert(destination).second) return;  // a question is out already
  asio::post(events_, [this, key, destination] {
    auto request = approval_request_for(key);
    auto names = request.names;
    opts_.approver->ask(std::move(request), [this, key, destination, names](policy::approval a) {
      asio::post(dispatch_, [this, key, destination, names, a] {
        asking_.erase(destination);
        remember_answer(key, names, a);
        if (a == policy::approval::allow_once) allowed_once_.insert(key);
        // A denial is now the policy's own (interactive-deny and its rule).
        if (auto d = policy_denies(key); d && d->what == policy::verdict::deny)
          emit_for(denied_event(key, *d), key, true);
      });
    });
  });
}

}  // namespace netpen::relay
