// [policy] What an --interactive answer decides for the flow it was asked
// about (net/policy/answered.hpp): the flow gets the answer itself, so a
// slow "allow name" allows it even when the name's DNS binding (a TTL of 0
// lasts a second) expired while the question was out, and a refusal made
// just now is not "denied earlier in this run".
#include <catch2/catch.hpp>

#include <array>

#include "net/policy/address_class.hpp"
#include "net/policy/answered.hpp"
#include "net/policy/policy.hpp"

using namespace std::chrono_literals;
namespace pol = netpen::policy;
using pol::approval;

TEST_CASE("answers: the asked flow's verdict, reason and rule", "[policy]") {
  const auto once = pol::answered_decision(approval::allow_once, "203.0.113.10", "web.lab.test");
  CHECK(once.what == pol::verdict::allow);
  CHECK(once.reason == pol::reason::interactive_allow);
  CHECK(once.rule == "web.lab.test (once)");
  CHECK(pol::answered_decision(approval::allow_once, "203.0.113.10", "").rule == "203.0.113.10 (once)");
  CHECK(pol::answered_decision(approval::allow_address, "203.0.113.10", "web.lab.test").rule ==
        "203.0.113.10 (interactive)");
  const auto name = pol::answered_decision(approval::allow_name, "203.0.113.10", "web.lab.test");
  CHECK(name.what == pol::verdict::allow);
  CHECK(name.rule == "web.lab.test (interactive)");
  const auto no = pol::answered_decision(approval::deny, "203.0.113.10", "web.lab.test");
  CHECK(no.what == pol::verdict::deny);
  CHECK(no.reason == pol::reason::interactive_deny);
  CHECK(no.rule == "203.0.113.10 (interactive)");
  const auto timeout = pol::answered_decision(approval::timeout, "203.0.113.10", "");
  CHECK(timeout.what == pol::verdict::deny);
  CHECK(timeout.rule == "203.0.113.10 (no answer)");
  CHECK(pol::answered_decision(approval::unasked, "203.0.113.10", "").reason == pol::reason::interactive_unasked);
}

TEST_CASE("answers: the sentences say when it was decided", "[policy]") {
  CHECK(pol::interactive_denial_sentence(pol::answered_decision(approval::deny, "10.0.0.1", "")) ==
        "denied at the prompt");
  CHECK(pol::interactive_denial_sentence(pol::answered_decision(approval::timeout, "10.0.0.1", "")) ==
        "no answer within --prompt-timeout");
  pol::decision remembered{pol::verdict::deny, std::string(pol::reason::interactive_deny), "10.0.0.1 (interactive)", {}};
  CHECK(pol::interactive_denial_sentence(remembered) == "denied earlier in this run");
}

TEST_CASE("answers: a remembered name no longer matches once its binding expired", "[policy]") {
  // Why the asked flow must not go back to the policy (the bug: "d" after a
  // second denied the very connection it was about).
  pol::policy_config c;
  c.interactive = true;
  pol::policy p(c);
  const auto t0 = pol::policy::clock::now();
  const auto ip = *pol::parse_ip("203.0.113.10");
  const std::array addresses{ip};
  p.learn("web.lab.test", addresses, 0, t0);  // dnsmasq's host records: TTL 0
  CHECK(p.on_connect(ip, 80, netpen::packet::proto_tcp, t0).what == pol::verdict::ask);
  p.remember_domain("web.lab.test", pol::verdict::allow);
  CHECK(p.on_connect(ip, 80, netpen::packet::proto_tcp, t0 + 500ms).what == pol::verdict::allow);
  CHECK(p.on_connect(ip, 80, netpen::packet::proto_tcp, t0 + 1500ms).what == pol::verdict::ask);
  // ... while the answer itself allows the flow that was asked about
  CHECK(pol::answered_decision(approval::allow_name, "203.0.113.10", "web.lab.test").what == pol::verdict::allow);
}

TEST_CASE("answers: a timeout is remembered with its own origin", "[policy]") {
  pol::policy_config c;
  c.interactive = true;
  pol::policy p(c);
  const auto ip = *pol::parse_ip("203.0.113.10");
  p.remember_ip(ip, std::nullopt, pol::verdict::deny, pol::no_answer_origin);
  const auto d = p.on_connect(ip, 80, netpen::packet::proto_tcp, pol::policy::clock::now());
  CHECK(d.reason == pol::reason::interactive_deny);
  CHECK(d.rule == "203.0.113.10 (no answer)");
  CHECK_FALSE(d.answered_now);
}
