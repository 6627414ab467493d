// A relayed TCP flow opened from the host toward a published port (see
// tcp_flow.hpp, "Inbound"): the endpoint's active open through the tap,
// then the same data relaying as an outbound flow.
#include <asio/co_spawn.hpp>

#include "net/common/asio_helpers.hpp"
#include "net/common/log.hpp"
#include "net/relay/tcp_flow.hpp"

namespace netpen::relay {

tcp_flow::tcp_flow(flow_context& ctx, asio::strand<asio::any_io_executor> strand, const flow_key& key,
                   asio::ip::tcp::socket client, std::string client_text, std::uint32_t isn, const tcp::config& cfg,
                   done_fn on_done, refused_fn refused)
    : ctx_(ctx),
      tap_(ctx.tap()),
      on_done_(std::move(on_done)),
      strand_(std::move(strand)),
      key_(key),
      syn_ttl_(0),
      ep_(tcp::active_open, isn, cfg, tcp::clock::now()),
      stream_(strand_),
      deadline_timer_(strand_),
      changed_(strand_),
      inbound_(true),
      refused_(std::move(refused)) {
  record_.inbound_client = std::move(client_text);
  const auto protocol = client.local_endpoint().protocol();
  asio::error_code ec;
  stream_.socket().assign(protocol, client.release(), ec);
  if (!ec) stream_.socket().set_option(asio::ip::tcp::no_delay(true), ec);
}

// Sends the SYN and waits (bounded by the endpoint's SYN retransmissions)
// for the server's answer; true once established.
asio::awaitable<bool> tcp_flow::open_inbound() {
  flush();
  while (ep_.current_state() == tcp::state::syn_sent) {
    armed_deadline_ = ep_.next_deadline().value_or(tcp::time_point::max());
    deadline_timer_.expires_at(armed_deadline_);
    co_await deadline_timer_.async_wait(use_tuple);  // fired or cancelled: the state says which
    flush();  // the SYN again when its timer ran out
  }
  co_return ep_.current_state() == tcp::state::established;
}

void tcp_flow::refuse_inbound_open() {
  asio::post(strand_, [self = shared_from_this()] {
    if (!self->inbound_ || self->connected_) return;
    self->ep_.refuse();  // ignored unless the SYN is still unanswered
    self->flush();
    self->after_change();  // a closed endpoint cancels the wait in open_inbound
  });
}

asio::awaitable<void> tcp_flow::run_inbound() {
  const bool open = co_await open_inbound();
  if (!open) {
    const bool timed_out = ep_.timed_out();
    log::debug("{}: inbound open {}", to_string(key_), timed_out ? "timed out" : "refused");
    host_closed_ = true;  // the client is not ours to close: it goes back
    auto back = std::move(stream_.socket());
    if (refused_) {
      auto refused = std::move(refused_);
      // After this flow left the table: the next route may reuse nothing of it.
      asio::post(strand_, [refused = std::move(refused), back = std::move(back)]() mutable { refused(std::move(back)); });
    }
    co_return;
  }
  connected_ = true;
  log::debug("{}: inbound connection from {} established", to_string(key_), record_.inbound_client);
  ctx_.opened(key_, record_);
  flush();
  after_change();
  co_await relay_data();
}

}  // namespace netpen::relay
