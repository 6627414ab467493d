// The narrow interface every relayed flow talks to: all a flow may ask of
// the relay around it. Flows never see the engine, its tables or the
// rootful gate; flow_services implements this for both data paths, and the
// scripted tests can implement it alone.
//
//   judge      the verdict on a new flow's destination (asks the user under
//              --interactive; warns once about encrypted-DNS endpoints)
//   judged_by_claim / judge_claim
//              flows whose verdict waits for the name their first bytes
//              claim (TLS SNI, HTTP Host, QUIC SNI), and that verdict
//   opened     flow_open, from the verdict the flow carries in its record
//   closed     flow_close, with the record's bytes, end and duration
//   claimed    the record's claim, sniffed after flow_open (capture comments)
//   report     any other event about the flow (denied, proxy_failed)
//   tap        the writer toward the child (rootless only)
//   icmp_error_to_child  an ICMP error the host got, passed on to the child
// plus the settings a flow needs to leave (connect timeout, proxy, egress
// capture, DNS service) and the names the tree looked up.
#pragma once
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ssl/context.hpp>

#include <chrono>
#include <optional>
#include <span>
#include <string>

#include "net/events/event.hpp"
#include "net/policy/policy.hpp"
#include "net/proxy/proxy_config.hpp"
#include "net/relay/egress_observer.hpp"
#include "net/relay/flow_key.hpp"
#include "net/relay/flow_record.hpp"
#include "net/relay/host_port_set.hpp"
#include "net/relay/socket_errors.hpp"
#include "net/relay/tap_writer.hpp"
#include "net/sniff/claim.hpp"

namespace netpen::relay {

// What a flow needs to open its host side; fixed for the run.
struct flow_settings {
  std::chrono::milliseconds connect_timeout{30000};
  const proxy::proxy_config* proxy = nullptr;  // TCP leaves through it when set
  asio::ssl::context* proxy_tls = nullptr;     // https:// proxies only
  egress_observer* egress = nullptr;           // the capture's egress points (null: none)
  asio::ip::tcp::endpoint dns_tcp;             // the DNS forwarder's local TCP service
  const host_port_set* host_ports = nullptr;   // --host-port (null: none)
};

class flow_context {
 public:
  virtual const flow_settings& settings() const = 0;
  // The name the tree looked up for `a` (synthetic or from DNS answers).
  virtual std::optional<std::string> name_for(const packet::ip_address& a) const = 0;
  // True for an address of the synthetic range (socks5h://, --proxy-only).
  virtual bool is_synthetic(const packet::ip_address& a) const = 0;

  // The verdict on a new flow to key.dst: allow or deny (`ask` is put to the
  // user, or denied without one). Runs on the caller's strand.
  virtual asio::awaitable<policy::decision> judge(const flow_key& key) = 0;
  // Whether a new TCP flow to key.dst (or a QUIC flow to UDP/443) is judged
  // by the name its first bytes claim: the policy judges claimed names and
  // the destination is not refused outright by address. Such a TCP flow
  // answers the child's SYN, reads the first bytes (bounded wait), and only
  // then calls judge_claim and connects. Not asking anyone; any thread.
  virtual bool judged_by_claim(const flow_key& key) const = 0;
  // The verdict for such a flow: by the claimed name (asking the sandbox's
  // resolver for the name's addresses when the run has not learned them;
  // under --interactive the prompt shows the name), or, when the claim is
  // empty (nothing recognised, no bytes in time), by address as judge().
  // Warns about encrypted DNS as judge() does. Runs on the caller's strand.
  virtual asio::awaitable<policy::decision> judge_claim(const flow_key& key, const sniff::claim& claim) = 0;
  // Completes once the owner lookup started at the flow's first packet has
  // run (at once when not observing): a TCP flow waits for it before its
  // SYN-ACK, while the child's process is surely alive.
  virtual asio::awaitable<void> owner_looked_up() = 0;

  // flow_open (marks the record announced) and flow_close (only if announced).
  virtual void opened(const flow_key& key, flow_record& record) = 0;
  virtual void closed(const flow_key& key, const flow_record& record) = 0;
  // An announced flow's claim (record.claim) became known after its
  // flow_open (sniffed passively from the child's first bytes): the
  // outputs that label the flow's later packets (the capture's comments)
  // learn it. Publishes no event; flow_close carries the claim.
  virtual void claimed(const flow_key& key, const flow_record& record) = 0;
  // The denied event for a verdict that refused the flow (its last event).
  virtual void denied(const flow_key& key, const policy::decision& d) = 0;
  // The same for a flow judged by its claim: the event also carries what
  // its first bytes claimed (sni, alpn, http_method/host/path).
  virtual void denied(const flow_key& key, const policy::decision& d, const sniff::claim& claim) = 0;
  // An event about the flow with its protocol, endpoints, name and route
  // filled in from `record`; `last` forgets the flow's process afterwards.
  virtual events::event flow_event(events::kind what, const flow_key& key, const flow_record& record) const = 0;
  virtual void report(events::event e, const flow_key& key, bool last) = 0;

  virtual tap_writer& tap() = 0;
  virtual void icmp_error_to_child(const flow_key& key, const icmp_report& report,
                                   std::span<const std::byte> quoted_packet) = 0;

 protected:
  ~flow_context() = default;
};

}  // namespace netpen::relay
