// The decision an --interactive answer gives the flow it was about (see
// answered.hpp).
#include "net/policy/answered.hpp"

namespace netpen::policy {
namespace {

decision make(verdict v, std::string_view why, std::string rule) {
  decision d{v, std::string(why), std::move(rule), {}};
  d.answered_now = true;
  return d;
}

}  // namespace

decision answered_decision(approval a, const std::string& address, const std::string& name) {
  const std::string& subject = name.empty() ? address : name;
  switch (a) {
    case approval::allow_once: return make(verdict::allow, reason::interactive_allow, subject + " (once)");
    case approval::allow_address:
      return make(verdict::allow, reason::interactive_allow, address + " (interactive)");
    case approval::allow_name: return make(verdict::allow, reason::interactive_allow, subject + " (interactive)");
    case approval::deny: return make(verdict::deny, reason::interactive_deny, address + " (interactive)");
    case approval::timeout:
      return make(verdict::deny, reason::interactive_deny, address + " (" + std::string(no_answer_origin) + ")");
    case approval::unasked: return make(verdict::deny, reason::interactive_unasked, {});
  }
  return make(verdict::deny, reason::interactive_deny, address + " (interactive)");
}

std::string interactive_denial_sentence(const decision& d) {
  if (d.reason == reason::interactive_unasked)
    return "--interactive: no terminal to ask on (the process's exec has none, has ended, or is unknown)";
  if (!d.answered_now) return "denied earlier in this run";
  const bool no_answer = d.rule.ends_with("(" + std::string(no_answer_origin) + ")");
  return no_answer ? "no answer within --prompt-timeout" : "denied at the prompt";
}

}  // namespace netpen::policy
