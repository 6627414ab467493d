// What an --interactive answer decides for the very flow that was asked
// about. Pure. The answer is also remembered for later flows
// (flow_services::remember_answer, policy::remember_*), but the asked flow
// never goes back to the policy: a remembered "allow name" only matches
// while the run's DNS binding name -> address is valid (a TTL of 0 lasts a
// second), and a person's answer often comes later than that. So:
//   allow_once      allow  interactive-allow  "ADDR (once)" / "NAME (once)"
//   allow_address   allow  interactive-allow  "ADDR (interactive)"
//   allow_name      allow  interactive-allow  "NAME (interactive)" (ADDR without a name)
//   deny            deny   interactive-deny   "ADDR (interactive)"
//   timeout         deny   interactive-deny   "ADDR (no answer)"
//   unasked         deny   interactive-unasked
// Each decision has answered_now set, so its sentence says it was decided
// at the prompt just now, not "earlier in this run".
#pragma once
#include <string>
#include <string_view>

#include "net/policy/approval.hpp"
#include "net/policy/policy.hpp"

namespace netpen::policy {

// The origin a remembered timeout's rule carries ("10.0.0.1 (no answer)").
inline constexpr std::string_view no_answer_origin = "no answer";

// `address`: the destination address as text; `name`: the name the flow
// claims, else the name "allow name" remembered (may be empty).
decision answered_decision(approval a, const std::string& address, const std::string& name);

// The sentence of an interactive-deny or -unasked decision: "denied at
// the prompt", "no answer within --prompt-timeout", or, for a remembered
// answer, "denied earlier in this run".
std::string interactive_denial_sentence(const decision& d);

}  // namespace netpen::policy
