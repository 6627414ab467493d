// The shared services' set-up, names and DNS over UDP (see flow_services.hpp).
#include "net/relay/flow_services.hpp"

#include <asio/co_spawn.hpp>
#include <asio/post.hpp>

#include "net/common/asio_helpers.hpp"
#include "net/common/log.hpp"
#include "net/common/sandbox_addresses.hpp"
#include "net/dns/exchange_event.hpp"
#include "net/packet/icmp.hpp"
#include "net/proxy/tls_setup.hpp"
#include "net/relay/host_socket.hpp"

namespace netpen::relay {
namespace {
constexpr std::size_t max_dns_in_flight = 512;
}  // namespace

flow_services::flow_services(asio::io_context& ctx, services_options opts)
    : ctx_(ctx), opts_(std::move(opts)), events_(asio::make_strand(ctx.get_executor())) {
  settings_.connect_timeout = opts_.connect_timeout;
  settings_.proxy = opts_.proxy ? &*opts_.proxy : nullptr;
  settings_.egress = opts_.egress;
  settings_.host_ports = &opts_.host_ports;
}

flow_services::~flow_services() = default;

result<void> flow_services::start() {
  dns::forwarder_options dns_opts;
  if (opts_.proxy && (opts_.proxy_only || opts_.proxy->kind == proxy::scheme::socks5h)) {
    synthetic_ = std::make_shared<dns::synthetic_names>();
    dns_opts.synthetic = synthetic_;
  }
  if (opts_.proxy && opts_.proxy->kind == proxy::scheme::https) {
    auto tls = proxy::make_tls_context(opts_.proxy->insecure);
    if (!tls) return unexpected<error>(tls.error());
    proxy_tls_ = std::move(*tls);
    settings_.proxy_tls = proxy_tls_.get();
  }
  if (opts_.policy) dns_opts.allow_query = [this](const std::string& qname, std::uint16_t qtype) {
      return query_allowed(qname, qtype);
    };
  dns_ = std::make_unique<dns::forwarder>(ctx_.get_executor(), opts_.dns_upstreams, opts_.hosts_overlay, dns_opts);
  dns_->on_answer([this, names = names_](const std::string& qname, const std::vector<dns::answer_record>& records) {
    names->record(qname, records);
    learn_names(qname, records);
  });
  if (opts_.observe) watch_dns_exchanges();
  auto ep = dns_->start_tcp_service();
  if (!ep) return unexpected<error>(ep.error());
  settings_.dns_tcp = *ep;
  return {};
}

// UDP queries are published by dns_udp_exchange (it knows the asking
// socket); TCP ones arrive here from the forwarder's TCP service.
void flow_services::watch_dns_exchanges() {
  dns_->on_exchange([this](dns::transport t, dns::byte_view query, dns::byte_view reply) {
    if (t != dns::transport::tcp) return;
    auto q = dns::query_event(query, "tcp");
    auto a = dns::answer_event(query, reply, "tcp");
    if (q) emit(std::move(*q));
    if (a) emit(std::move(*a));
  });
}

void flow_services::sizes(relay_sizes s, std::function<void(relay_sizes)> done) {
  asio::post(events_, [this, s, done = std::move(done)]() mutable {
    s.owners = owners_.size();
    s.names = names_->size();
    s.dns_in_flight = dns_in_flight_.load();
    done(s);
  });
}

void flow_services::stop() {
  if (stopping_.exchange(true)) return;
  if (dns_) dns_->stop();
  drain_events();
}

std::optional<std::string> flow_services::name_for(const packet::ip_address& a) const {
  const auto address = to_asio(a);
  if (synthetic_ && dns::synthetic_names::in_range(address)) return synthetic_->name_for(address);
  return names_->lookup(address);
}

bool flow_services::is_synthetic(const packet::ip_address& a) const {
  return synthetic_ && dns::synthetic_names::in_range(to_asio(a));
}

std::optional<std::string> flow_services::datagram_refusal(const flow_key& key) const {
  if (opts_.proxy_only) return "--proxy-only: only TCP through the proxy may leave";
  if (is_synthetic(key.dst)) return "a name resolved for the proxy is reachable over TCP only";
  return std::nullopt;
}

void flow_services::icmp_error_to_child(const flow_key& key, const icmp_report& report,
                                        std::span<const std::byte> quoted_packet) {
  if (quoted_packet.empty() || report.offender.v6 != key.src.v6) return;
  log::debug("{}: ICMP type {} code {} from {}", to_string(key), report.type, report.code,
             to_string(report.offender));
  packet::icmp_error_spec spec;
  spec.src_mac = sandbox::gateway_mac;
  spec.dst_mac = sandbox::child_mac;
  spec.from = report.offender;
  spec.to = key.src;
  spec.type = report.type;
  spec.code = report.code;
  spec.rest = report.info;
  spec.quoted_ip_packet = quoted_packet;
  tap_.send_frame(packet::build_icmp_error(spec));
}

bool flow_services::answer_dns_udp(const flow_key& key, std::vector<std::byte> query,
                                   std::function<void(std::vector<std::byte>)> send) {
  if (dns_in_flight_.load() >= max_dns_in_flight) return false;
  dns_udp_.fetch_add(1, std::memory_order_relaxed);
  dns_in_flight_.fetch_add(1);
  asio::co_spawn(
      ctx_.get_executor(),
      [this, key, q = std::move(query), send = std::move(send)]() mutable -> asio::awaitable<void> {
        std::vector<std::byte> copy;
        if (opts_.observe) {
          copy = q;
          dns_udp_exchange(key, copy, std::nullopt);  // now, while the asking socket surely exists
        }
        auto reply = co_await dns_->answer(std::move(q), dns::transport::udp);
        if (opts_.observe) dns_udp_exchange(key, copy, reply);
        if (!reply.empty() && !stopping_.load()) send(std::move(reply));
      },
      log_failure("a DNS query", [this] { dns_in_flight_.fetch_sub(1); }));
  return true;
}

void flow_services::dns_udp_exchange(const flow_key& key, std::span<const std::byte> query,
                                     std::optional<std::span<const std::byte>> reply) {
  auto e = reply ? dns::answer_event(query, *reply, "udp") : dns::query_event(query, "udp");
  if (!e) return;
  e->source = endpoint_text(key.src, key.src_port);
  e->destination = endpoint_text(key.dst, key.dst_port);
  // One socket often has several questions out (A and AAAA): its owner is
  // kept until the last of them is answered, so every answer names it.
  asio::post(events_, [this, e = std::move(*e), key, answer = reply.has_value()]() mutable {
    auto& asking = dns_asking_[key];
    if (!answer) ++asking;
    const bool last = answer && (asking <= 1);
    if (answer && asking > 0) --asking;
    if (last) dns_asking_.erase(key);
    deliver(std::move(e), key, last);
  });
}

}  // namespace netpen::relay
