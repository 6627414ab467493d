// What both data paths share around their flows (the flow_context of the
// rootless engine and of the rootful gate): the DNS forwarder and the names
// it learns, the policy and the user's approval, the event stream with each
// flow's process, and the writer toward the child's tap.
//
// Threads. Every event is published from one strand (`events_`), in order,
// so the outputs see a flow's open before its close and the sink needs no
// locking. The owning process of a flow is looked up there too: at the
// flow's first packet (prefetch_owner), remembered until its last event.
// The policy object is shared and locks itself; the rest is set up before
// the threads start and read-only afterwards.
//
// Files: flow_services.cpp (set-up, names, DNS over UDP), flow_events.cpp
// (events and owners), flow_judge.cpp (policy, --interactive).
#pragma once
#include <asio/io_context.hpp>
#include <asio/strand.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "net/common/error.hpp"
#include "net/dns/forwarder.hpp"
#include "net/dns/name_index.hpp"
#include "net/dns/synthetic_names.hpp"
#include "net/policy/approval.hpp"
#include "net/relay/flow_context.hpp"
#include "net/relay/relay_sizes.hpp"
#include "net/relay/process_finder.hpp"

namespace netpen::relay {

struct services_options {
  std::vector<dns::upstream_server> dns_upstreams;
  dns::hosts_table hosts_overlay;
  std::chrono::milliseconds connect_timeout{30000};
  std::optional<proxy::proxy_config> proxy;  // TCP leaves through it (DNS to the forwarder excepted)
  // Nothing but proxied TCP leaves: UDP and ping are denied, names are
  // answered synthetically. socks5h:// answers names synthetically too.
  bool proxy_only = false;
  events::sink on_event;  // called on one strand, one event at a time
  // On the same strand: a flow_open-shaped event (with its process) for a
  // flow whose claim became known after its flow_open (claimed()). Not an
  // event for the outputs: only the capture's packet comments use it.
  events::sink on_claim;
  // Publish DNS and flow open/close events too (and find their processes);
  // without it only proxy failures, warnings and denials are published.
  bool observe = false;
  egress_observer* egress = nullptr;  // must outlive the services
  std::shared_ptr<policy::policy> policy;  // null: everything may leave
  // --interactive: asked about destinations the policy leaves open (`ask`);
  // without one such destinations are denied. Must outlive the services.
  policy::approver* approver = nullptr;
  // --host-port: the gateway's ports that lead to the host's loopback.
  host_port_set host_ports;
};

class flow_services final : public flow_context {
 public:
  flow_services(asio::io_context& ctx, services_options opts);
  flow_services(const flow_services&) = delete;
  flow_services& operator=(const flow_services&) = delete;
  ~flow_services();

  // The DNS forwarder (with its loopback TCP service) and the proxy's TLS.
  result<void> start();
  // Stops the forwarder and publishes what is queued (bounded).
  void stop();

  // flow_context
  const flow_settings& settings() const override { return settings_; }
  std::optional<std::string> name_for(const packet::ip_address& a) const override;
  bool is_synthetic(const packet::ip_address& a) const override;
  asio::awaitable<policy::decision> judge(const flow_key& key) override;
  bool judged_by_claim(const flow_key& key) const override;
  asio::awaitable<policy::decision> judge_claim(const flow_key& key, const sniff::claim& claim) override;
  asio::awaitable<void> owner_looked_up() override;
  void opened(const flow_key& key, flow_record& record) override;
  void closed(const flow_key& key, const flow_record& record) override;
  void claimed(const flow_key& key, const flow_record& record) override;
  void denied(const flow_key& key, const policy::decision& d) override;
  void denied(const flow_key& key, const policy::decision& d, const sniff::claim& claim) override;
  events::event flow_event(events::kind what, const flow_key& key, const flow_record& record) const override;
  void report(events::event e, const flow_key& key, bool last) override;
  tap_writer& tap() override { return tap_; }
  void icmp_error_to_child(const flow_key& key, const icmp_report& report,
                           std::span<const std::byte> quoted_packet) override;

  // Publishes an event raised outside the engine (the Unix-socket guard's
  // refusals) on the events strand, in order with the others.
  void emit(events::event e);
  // The sandbox's init: flows' processes are looked up among its tree.
  void set_tree(pid_t init_pid);
  bool observing() const override { return opts_.observe; }
  bool proxy_only() const { return opts_.proxy_only; }
  bool has_approver() const { return opts_.approver != nullptr; }
  dns::forwarder& dns() { return *dns_; }
  const policy::policy* policy() const { return opts_.policy.get(); }
  // Looks the owner of a new flow up now (its first packet), before the
  // connect: short-lived clients may be gone by the time the flow opens.
  void prefetch_owner(const flow_key& key);
  // The policy's verdict on a new flow without asking anyone: allow (also
  // with no policy), deny or ask. No side effects.
  policy::decision verdict_now(const flow_key& key) const;
  // The denial when the approver could ask nobody (approval::unasked).
  static policy::decision unasked_denial();
  // The name a flow claims and where it was read ("TLS SNI", "HTTP Host").
  struct claimed_name {
    std::string name, origin;
  };
  // Puts `key`'s destination (and the name it claims, if any) to the
  // approver; the answer is remembered in the policy as it says ("allow
  // name": the claimed name, else the name the address resolved from), then
  // `answered` runs (on the approver's thread) with the answer and the name
  // it is about (the claimed name, else the newest learned one; may be empty).
  using answered_fn = std::function<void(policy::approval, const std::string& name)>;
  void ask(const flow_key& key, answered_fn answered, claimed_name claimed = {});
  // With a policy in force, a new flow to a well-known encrypted-DNS
  // endpoint (DoH, DoT, DoQ) gets one warning per destination.
  void warn_if_encrypted_dns(const flow_key& key);
  // A datagram flow that may not leave under --proxy-only (or to a
  // synthetic address): the reason, else nullopt.
  std::optional<std::string> datagram_refusal(const flow_key& key) const;
  // A DNS query over UDP from the tree (`key`: the asker and the address it
  // asked): answered by the forwarder, `send` called with a non-empty reply
  // on some thread; query and answer are events when observing. False when
  // too many queries are in flight (dropped).
  bool answer_dns_udp(const flow_key& key, std::vector<std::byte> query,
                      std::function<void(std::vector<std::byte>)> send);
  std::uint64_t dns_udp_queries() const { return dns_udp_.load(std::memory_order_relaxed); }
  // Adds the services' part to the stats line (relay_sizes.hpp), read on
  // the events strand; `done` runs there.
  void sizes(relay_sizes s, std::function<void(relay_sizes)> done);

 private:
  bool query_allowed(const std::string& qname, std::uint16_t qtype);  // the forwarder's filter (flow_judge.cpp)
  void learn_names(const std::string& qname, const std::vector<dns::answer_record>& records);
  void watch_dns_exchanges();
  void dns_udp_exchange(const flow_key& key, std::span<const std::byte> query,
                        std::optional<std::span<const std::byte>> reply);
  // The request the approver shows (events_ strand: names, process).
  policy::approval_request approval_request_for(const flow_key& key);
  void remember_answer(const flow_key& key, const std::vector<std::string>& names, policy::approval a);
  // The approver's answer about key (and its claimed name), on the caller's strand.
  // `name` gets the name the answer is about (see ask()).
  asio::awaitable<policy::approval> answer_of(const flow_key& key, const claimed_name& claimed, std::string& name);
  // Claimed names (flow_judge.cpp): on_claim now; netpen's own bounded
  // lookup of a name's A/AAAA (learned, not published as the tree's DNS
  // events); the verdict an interactive answer gives the flow it was about
  // (policy/answered.hpp).
  policy::decision claim_verdict_now(const flow_key& key, const std::string& name, policy::claim_source source) const;
  asio::awaitable<void> look_up_claimed(const std::string& name);
  policy::decision answer_verdict(const flow_key& key, const std::string& name, policy::approval a);
  // report()'s work on the events strand: the owner (looked up once,
  // forgotten after the flow's `last` event), then on_event.
  void deliver(events::event e, const flow_key& key, bool last);
  void drain_events();

  asio::io_context& ctx_;
  services_options opts_;
  flow_settings settings_;
  tap_writer tap_;
  std::unique_ptr<dns::forwarder> dns_;
  std::shared_ptr<dns::name_index> names_ = std::make_shared<dns::name_index>();
  std::shared_ptr<dns::synthetic_names> synthetic_;  // socks5h:// or --proxy-only
  std::shared_ptr<asio::ssl::context> proxy_tls_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> dns_in_flight_{0};
  std::atomic<std::uint64_t> dns_udp_{0};

  asio::strand<asio::any_io_executor> events_;  // every event is published from here, in order
  std::unique_ptr<process_finder> finder_;      // events_ only
  std::unordered_map<flow_key, std::optional<events::process_info>, flow_key_hash> owners_;  // events_ only
  std::unordered_map<flow_key, int, flow_key_hash> dns_asking_;  // UDP DNS questions out per socket; events_ only
  std::mutex encrypted_dns_mutex_;
  std::unordered_set<std::string> encrypted_dns_warned_;  // destinations already warned about
};

}  // namespace netpen::relay
