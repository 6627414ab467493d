// [profiles] profile_learner: a run's events -> the learned profile: names
// with ports, addresses only where no name was seen, resolved-only names,
// comments with counts and processes, refused/inbound/host-port flows left
// out; and the profile loads back as an allow-list under default deny.
#include <catch2/catch.hpp>

#include "app/learn/profile_learner.hpp"
#include "tests/unit/learned_profile_test_util.hpp"

using namespace netpen;
using namespace netpen::app;

namespace {

using test::profile_tokens;
using test::learned_flow;

}  // namespace

TEST_CASE("profile_learner: names with ports, addresses without a name, comments", "[profiles]") {
  using events::kind;
  learn::profile_learner l;
  l.add(
      learned_flow(kind::flow_open, "10.0.0.2:4000", "203.0.113.10:80", "web.example", "/usr/bin/curl -s http://web.example/"));
  l.add(learned_flow(kind::flow_close, "10.0.0.2:4000", "203.0.113.10:80", std::nullopt));
  l.add(learned_flow(kind::flow_open, "10.0.0.2:4001", "203.0.113.10:80", "web.example", "wget http://web.example/"));
  auto tls = learned_flow(kind::flow_close, "10.0.0.2:4002", "203.0.113.11:443", std::nullopt);
  tls.sni = "API.example";  // a claim seen only at the close
  l.add(learned_flow(kind::flow_open, "10.0.0.2:4002", "203.0.113.11:443", std::nullopt));
  l.add(tls);
  l.add(learned_flow(kind::flow_open, "10.0.0.2:4003", "[2001:db8::5]:22", std::nullopt, "ssh h"));
  l.add(learned_flow(kind::flow_open, "10.0.0.2", "203.0.113.12", std::nullopt, "ping 203.0.113.12", "icmp"));
  auto refused = learned_flow(kind::flow_open, "10.0.0.2:4004", "203.0.113.13:80", "evil.example");
  refused.policy = "not-allowed";
  l.add(refused);
  auto denied = refused;
  denied.what = kind::denied;
  l.add(denied);
  l.add(learned_flow(kind::flow_close, "10.0.0.2:4004", "203.0.113.13:80", std::nullopt));  // the refused flow's close
  // Allowed at the open, refused on its claim afterwards: not a use either.
  l.add(learned_flow(kind::flow_open, "10.0.0.2:4006", "203.0.113.14:443", std::nullopt));
  auto claim_denied = learned_flow(kind::denied, "10.0.0.2:4006", "203.0.113.14:443", std::nullopt);
  claim_denied.sni = "other.example";
  claim_denied.policy = "sni-not-allowed";
  l.add(claim_denied);
  l.add(learned_flow(kind::flow_close, "10.0.0.2:4006", "203.0.113.14:443", std::nullopt));
  auto inbound = learned_flow(kind::flow_open, "127.0.0.1:5000", "10.0.0.2:8000", std::nullopt);
  inbound.direction = "inbound";
  l.add(inbound);
  auto host_port = learned_flow(kind::flow_open, "10.0.0.2:4005", "10.0.0.1:8080", std::nullopt);
  host_port.via = "host-port";
  l.add(host_port);
  events::event answer;
  answer.what = kind::dns_answer;
  answer.query = "only-resolved.example.";
  answer.rcode = "NOERROR";
  answer.answers = {"203.0.113.20"};
  l.add(answer);
  answer.query = "web.example";
  l.add(answer);
  answer.query = "nx.example";
  answer.rcode = "NXDOMAIN";
  answer.answers.clear();
  l.add(answer);

  const std::string text = l.render(std::nullopt);
  CHECK(text.find("  # 2 tcp flows, by curl, wget\n  \"web.example:80\",\n") != std::string::npos);
  CHECK(text.find("  # 1 tcp flow, by curl\n  \"api.example:443\",\n") != std::string::npos);
  CHECK(text.find("  # 1 tcp flow, by ssh\n  \"[2001:db8::5]:22\",\n") != std::string::npos);
  CHECK(text.find("  # resolved, no connection seen\n  \"only-resolved.example\",\n") != std::string::npos);
  CHECK(text.find("#   tcp evil.example (not-allowed)") != std::string::npos);
  CHECK(profile_tokens(text) == std::vector<std::string>{"--allow=web.example:80", "--allow=api.example:443",
                                                   "--allow=[2001:db8::5]:22", "--allow=203.0.113.12",
                                                   "--allow=only-resolved.example", "--default-policy=deny"});
}

TEST_CASE("profile_learner: a run that reached nothing denies everything", "[profiles]") {
  learn::profile_learner l;
  CHECK(profile_tokens(l.render(std::nullopt)) == std::vector<std::string>{"--default-policy=deny"});
}
