// [policy][claim-services] The relay's side of the claimed-name rule
// (net/relay/flow_judge.cpp) on real flow_services with a DNS forwarder:
// which flows are judged by claim, judge_claim's verdicts, netpen's own
// lookup of a pinned name (answered here by the --hosts-file overlay, so
// nothing leaves the machine) that the tree's DNS events never show, the
// prompt's claimed name and what "allow name" remembers, and the sentences
// of the denials.
#include <catch2/catch.hpp>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/strand.hpp>
#include <asio/use_future.hpp>

#include <array>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "net/dns/hosts_file.hpp"
#include "net/relay/flow_services.hpp"
#include "tests/unit/policy_test_util.hpp"

using namespace std::chrono_literals;
using namespace policy_test;
namespace relay = netpen::relay;
namespace sniff = netpen::sniff;
namespace events = netpen::events;

namespace {

// Answers every question with `answer` and keeps the requests.
class fixed_approver final : public pol::approver {
 public:
  explicit fixed_approver(pol::approval a) : answer_(a) {}
  void ask(pol::approval_request request, std::function<void(pol::approval)> done) override {
    {
      const std::lock_guard lock(mutex_);
      asked_.push_back(std::move(request));
    }
    std::thread([done = std::move(done), a = answer_] { done(a); }).detach();
  }
  std::vector<pol::approval_request> asked() {
    const std::lock_guard lock(mutex_);
    return asked_;
  }

 private:
  pol::approval answer_;
  std::mutex mutex_;
  std::vector<pol::approval_request> asked_;
};

// Answers like a person: after `delay`.
class slow_approver final : public pol::approver {
 public:
  slow_approver(pol::approval a, std::chrono::milliseconds delay) : answer_(a), delay_(delay) {}
  void ask(pol::approval_request, std::function<void(pol::approval)> done) override {
    std::thread([done = std::move(done), a = answer_, d = delay_] {
      std::this_thread::sleep_for(d);
      done(a);
    }).detach();
  }

 private:
  pol::approval answer_;
  std::chrono::milliseconds delay_;
};

struct services {
  explicit services(pol::policy_config c, pol::approver* approver = nullptr) {
    relay::services_options o;
    auto hosts = netpen::dns::parse_hosts("203.0.113.30 web.lab.test\n2001:db8::30 web.lab.test\n");
    REQUIRE(hosts);
    o.hosts_overlay = std::move(*hosts);
    o.observe = true;
    o.policy = policy = std::make_shared<pol::policy>(std::move(c));
    o.approver = approver;
    o.on_event = [this](events::event e) {
      const std::lock_guard lock(mutex);
      seen.push_back(std::move(e));
    };
    s = std::make_unique<relay::flow_services>(ctx, std::move(o));
    REQUIRE(s->start());
    runner = std::thread([this] { ctx.run(); });
  }
  ~services() {
    s->stop();
    work.reset();
    ctx.stop();
    runner.join();
  }

  pol::decision judge(const relay::flow_key& key) {
    auto strand = asio::make_strand(ctx);
    auto f = asio::co_spawn(strand, s->judge(key), asio::use_future);
    REQUIRE(f.wait_for(5s) == std::future_status::ready);
    return f.get();
  }
  pol::decision judge_claim(const relay::flow_key& key, const sniff::claim& c) {
    auto strand = asio::make_strand(ctx);
    auto f = asio::co_spawn(strand, s->judge_claim(key, c), asio::use_future);
    REQUIRE(f.wait_for(5s) == std::future_status::ready);
    return f.get();
  }
  std::vector<events::event> events_seen() {
    s->stop();
    const std::lock_guard lock(mutex);
    return seen;
  }

  asio::io_context ctx;
  asio::executor_work_guard<asio::io_context::executor_type> work{ctx.get_executor()};
  std::shared_ptr<pol::policy> policy;
  std::unique_ptr<relay::flow_services> s;
  std::mutex mutex;
  std::vector<events::event> seen;
  std::thread runner;
};

relay::flow_key to(const char* addr, std::uint16_t port, std::uint8_t protocol = tcp) {
  relay::flow_key k;
  k.protocol = protocol;
  k.src = ip("10.248.0.2");
  k.src_port = 40000;
  k.dst = ip(addr);
  k.dst_port = port;
  return k;
}

sniff::claim tls(std::string sni) {
  sniff::claim c;
  c.protocol = sniff::claim_protocol::tls;
  c.sni = std::move(sni);
  return c;
}

sniff::claim http(std::string host) {
  sniff::claim c;
  c.protocol = sniff::claim_protocol::http;
  c.http_method = "GET";
  c.http_host = std::move(host);
  c.http_path = "/";
  return c;
}

}  // namespace

TEST_CASE("services: which flows are judged by their claim", "[policy][claim-services]") {
  auto c = config("web.lab.test,198.51.100.0/24", "192.0.2.66");
  c.block_private = true;
  services with_names(std::move(c));
  CHECK(with_names.s->judged_by_claim(to("203.0.113.30", 443)));
  CHECK(with_names.s->judged_by_claim(to("203.0.113.30", 22)));       // any TCP port
  CHECK(with_names.s->judged_by_claim(to("203.0.113.30", 443, udp)));  // QUIC
  CHECK_FALSE(with_names.s->judged_by_claim(to("203.0.113.30", 53, udp)));
  CHECK_FALSE(with_names.s->judged_by_claim(to("192.0.2.66", 443)));  // deny rule by address
  CHECK_FALSE(with_names.s->judged_by_claim(to("10.0.0.1", 443)));    // block-private
  CHECK_FALSE(with_names.s->judged_by_claim(to("8.8.8.8", 443)));     // encrypted DNS by address
  services addresses_only(config("198.51.100.0/24"));
  CHECK_FALSE(addresses_only.s->judged_by_claim(to("198.51.100.1", 443)));
}

TEST_CASE("services: judge_claim by name, the pinned lookup, fronting, no name", "[policy][claim-services]") {
  services t(config("web.lab.test,*.cdn.lab.test:443"));
  // Pinned: the tree never asked DNS; netpen asks (the overlay answers) and allows.
  auto d = t.judge_claim(to("203.0.113.30", 443), tls("web.lab.test"));
  CHECK(d.what == verdict::allow);
  CHECK(d.reason == "allowed-name");
  CHECK(d.name == "web.lab.test");
  CHECK(t.policy->resolves_to("web.lab.test", ip("2001:db8::30"), pol::policy::clock::now()));
  // The allowed name at another address: refused after the lookup.
  d = t.judge_claim(to("203.0.113.99", 443), tls("web.lab.test"));
  CHECK(d.what == verdict::deny);
  CHECK(d.reason == "sni-mismatch");
  d = t.judge_claim(to("203.0.113.99", 80), http("web.lab.test"));
  CHECK(d.reason == "host-mismatch");
  t.s->denied(to("203.0.113.99", 80), d);
  // A name the upstreams cannot answer (none here: SERVFAIL) stays a mismatch, in bounded time.
  const auto before = std::chrono::steady_clock::now();
  d = t.judge_claim(to("203.0.113.40", 443), tls("img.cdn.lab.test"));
  CHECK(d.reason == "sni-mismatch");
  CHECK(std::chrono::steady_clock::now() - before < 3s);
  // Fronting: another name at the allowed address.
  d = t.judge_claim(to("203.0.113.30", 443), tls("evil.lab.test"));
  CHECK(d.what == verdict::deny);
  CHECK(d.reason == "sni-not-allowed");
  CHECK(d.name == "evil.lab.test");
  t.s->denied(to("203.0.113.30", 443), d);
  d = t.judge_claim(to("203.0.113.30", 80), http("evil.lab.test"));
  CHECK(d.reason == "host-not-allowed");
  // No name: by address, as judge().
  d = t.judge_claim(to("203.0.113.30", 22), sniff::claim{});
  CHECK(d.what == verdict::allow);
  CHECK(d.reason == "allowed-name");
  d = t.judge_claim(to("203.0.113.77", 22), sniff::claim{});
  CHECK(d.reason == "not-allowed");
  // DoH by name under the allow-list.
  d = t.judge_claim(to("203.0.113.77", 443), tls("dns.google"));
  CHECK(d.reason == "encrypted-dns");
  t.s->denied(to("203.0.113.77", 443), d);

  const auto seen = t.events_seen();
  std::vector<std::string> denials;
  for (const auto& e : seen) {
    CHECK(e.what != events::kind::dns_query);  // netpen's own lookups are not the tree's
    CHECK(e.what != events::kind::dns_answer);
    if (e.what == events::kind::denied) denials.push_back(e.policy + ": " + e.reason + " [" + e.name.value_or("") + "]");
  }
  CHECK(denials == std::vector<std::string>{
                       "host-mismatch: HTTP Host web.lab.test does not resolve to 203.0.113.99 (allowed by "
                       "web.lab.test (--allow)) [web.lab.test]",
                       "sni-not-allowed: TLS SNI evil.lab.test is not allowed [evil.lab.test]",
                       "encrypted-dns: encrypted DNS: dns.google is a Google Public DNS DNS-over-HTTPS/TLS endpoint "
                       "(--allow dns.google to use it) [dns.google]",
                   });
}

TEST_CASE("services: judge_claim asks with the claimed name and remembers it", "[policy][claim-services]") {
  auto c = config("", "evil.lab.test");
  c.interactive = true;
  fixed_approver name(pol::approval::allow_name);
  services t(std::move(c), &name);
  auto d = t.judge_claim(to("203.0.113.30", 443), tls("web.lab.test"));
  CHECK(d.what == verdict::allow);
  CHECK(d.reason == "interactive-allow");
  CHECK(d.rule == "web.lab.test (interactive)");
  const auto asked = name.asked();
  REQUIRE(asked.size() == 1);
  CHECK(asked[0].claimed_name == "web.lab.test");
  CHECK(asked[0].claimed_by == "TLS SNI");
  CHECK(asked[0].destination == "203.0.113.30:443");
  // Remembered: the name (at its own addresses, learned by the lookup); no second question.
  d = t.judge_claim(to("203.0.113.30", 8443), tls("web.lab.test"));
  CHECK(d.reason == "interactive-allow");
  d = t.judge_claim(to("2001:db8::30", 443), tls("web.lab.test"));
  CHECK(d.reason == "interactive-allow");
  CHECK(name.asked().size() == 1);
  // A deny rule is never asked about.
  d = t.judge_claim(to("203.0.113.30", 443), tls("evil.lab.test"));
  CHECK(d.reason == "deny-rule");
  CHECK(name.asked().size() == 1);

  fixed_approver no(pol::approval::deny);
  auto c2 = config("");
  c2.interactive = true;
  services u(std::move(c2), &no);
  d = u.judge_claim(to("203.0.113.50", 80), http("shop.lab.test"));
  CHECK(d.what == verdict::deny);
  CHECK(d.reason == "interactive-deny");
  CHECK(d.name == "shop.lab.test");
  REQUIRE(no.asked().size() == 1);
  CHECK(no.asked()[0].claimed_by == "HTTP Host");
  // The address is refused for the rest of the run, whatever it claims.
  d = u.judge_claim(to("203.0.113.50", 80), http("other.lab.test"));
  CHECK(d.reason == "interactive-deny");
  CHECK(no.asked().size() == 1);
}

TEST_CASE("services: the query netpen asks for a claimed name", "[policy][claim-services]") {
  namespace dns = netpen::dns;
  auto q = dns::make_address_query(0x1234, "Web.Lab.Test.", dns::type_aaaa);
  REQUIRE(q);
  auto parsed = dns::parse_query(*q);
  REQUIRE(parsed);
  CHECK(parsed->hdr.id == 0x1234);
  CHECK(parsed->hdr.flags == dns::flag_rd);
  CHECK(parsed->hdr.qdcount == 1);
  CHECK(parsed->q.qname.text == "Web.Lab.Test");
  CHECK(parsed->q.qtype == dns::type_aaaa);
  CHECK(parsed->q.qclass == dns::class_in);
  CHECK(parsed->end == q->size());
  CHECK_FALSE(dns::make_address_query(1, "", dns::type_a));
  CHECK_FALSE(dns::make_address_query(1, ".", dns::type_a));
  CHECK_FALSE(dns::make_address_query(1, "a..b", dns::type_a));
  CHECK_FALSE(dns::make_address_query(1, std::string(64, 'a') + ".test", dns::type_a));
  CHECK(dns::make_address_query(1, std::string(63, 'a') + ".test", dns::type_a));
}

// Issue 20: "d" answered after a second denied the very connection it was
// about (the name's DNS binding, TTL 0, had expired by then and the flow
// went back to the policy); "n" was reported as "denied earlier".
TEST_CASE("services: a slow answer decides the flow it was asked about", "[policy][claim-services]") {
  const auto [answer, allowed, rule] = GENERATE(table<pol::approval, bool, std::string>({
      {pol::approval::allow_name, true, "web.lab.test (interactive)"},
      {pol::approval::allow_address, true, "203.0.113.30 (interactive)"},
      {pol::approval::allow_once, true, "web.lab.test (once)"},
      {pol::approval::deny, false, "203.0.113.30 (interactive)"},
      {pol::approval::timeout, false, "203.0.113.30 (no answer)"},
  }));
  auto c = config("");
  c.interactive = true;
  slow_approver person(answer, 1200ms);
  services t(std::move(c), &person);
  const std::array addresses{ip("203.0.113.30")};
  t.policy->learn("web.lab.test", addresses, 0, pol::policy::clock::now());  // TTL 0: one second
  const auto d = t.judge(to("203.0.113.30", 80));
  CHECK((d.what == verdict::allow) == allowed);
  CHECK(d.rule == rule);
  CHECK(d.answered_now);
  if (!allowed) {
    t.s->denied(to("203.0.113.30", 80), d);
    const auto seen = t.events_seen();
    REQUIRE_FALSE(seen.empty());
    CHECK(seen.back().reason ==
          (answer == pol::approval::timeout ? "no answer within --prompt-timeout" : "denied at the prompt"));
  }
}
