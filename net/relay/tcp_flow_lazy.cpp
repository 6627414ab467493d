// The parts of a relayed TCP flow that run only when there is work for them
// (see tcp_flow.hpp, step 3). A held, idle connection is the common case at
// scale, so it should cost no more than its host_to_child coroutine waiting
// for the host socket:
//   child_to_host  is spawned the first time the child's data is left in the
//                  rx ring (the host socket did not take it at once) or the
//                  child's FIN arrives; a FIN with nothing queued is passed on
//                  right here (shutdown), without a coroutine at all;
//   the deadlines  are a plain timer callback, armed by flush() whenever the
//                  endpoint's next deadline changes; with nothing due (no
//                  retransmission, no rings to give back) no wait is pending.
// The relay is over once the endpoint is closed and child_to_host returned
// (wait_until_over), as when the three ran side by side.
#include <asio/co_spawn.hpp>

#include <algorithm>

#include "net/relay/host_socket.hpp"
#include "net/relay/tcp_flow.hpp"

namespace netpen::relay {
namespace {
// How long a flow's rings must stay empty before their storage is freed.
constexpr auto buffer_release_delay = std::chrono::seconds(2);
}  // namespace

void tcp_flow::start_child_to_host_if_needed() {
  if (!relaying_ || c2h_running_ || c2h_done_ || ep_.is_closed()) return;
  if (ep_.rx_size() == 0) {
    if (!ep_.rx_finished()) return;
    // The child's FIN after everything it sent went out: what child_to_host does then.
    c2h_done_ = true;
    stream_.shutdown_send();
    if (!stream_.is_tls()) egress_fin(true);
    return;
  }
  c2h_running_ = true;
  asio::co_spawn(strand_, [self = shared_from_this()]() { return self->child_to_host(); },
                 [self = shared_from_this()](std::exception_ptr e) {
                   if (e) {
                     log_flow_failure(e, "tcp", self->key_);
                     self->ep_.abort();
                     self->flush();
                   }
                   self->c2h_running_ = false;
                   self->c2h_done_ = true;
                   self->after_change();
                 });
}

asio::awaitable<void> tcp_flow::wait_until_over() {
  while (!ep_.is_closed() || c2h_running_) co_await changed_.wait();
}

void tcp_flow::start_timers() {
  timers_on_ = true;
  arm_timer();
}

// A flow whose rings are empty gives their storage back once they stayed so
// for buffer_release_delay (not under TLS, where a pending read holds the tx
// ring). The wait holds a reference to the flow; the endpoint's close
// cancels it (after_change).
//
// The timer is re-armed only when something is due earlier than its pending
// wait fires: a wait that fires too early finds nothing due in the endpoint
// and arms the next one. So a request/response flow, whose retransmission
// deadline is set by each response and cleared by each acknowledgement, does
// not move the event loop's timer (a timerfd_settime each) twice a round trip.
void tcp_flow::arm_timer() {
  armed_deadline_ = ep_.next_deadline().value_or(tcp::time_point::max());
  if (ep_.is_closed()) return;
  const bool idle = !stream_.is_tls() && ep_.idle_with_buffers();
  if (!idle)
    idle_since_.reset();
  else if (!idle_since_)
    idle_since_ = tcp::clock::now();
  const auto when = idle ? std::min(armed_deadline_, *idle_since_ + buffer_release_delay) : armed_deadline_;
  if (when == tcp::time_point::max()) return;               // nothing due; a pending wait finds nothing
  if (timer_expiry_ <= when) return;  // a pending wait fires first and arms what is due then
  timer_expiry_ = when;
  deadline_timer_.expires_at(when);  // a wait pending before is cancelled (on_timer ignores it)
  deadline_timer_.async_wait([self = shared_from_this()](const asio::error_code& ec) { self->on_timer(ec); });
}

void tcp_flow::on_timer(const asio::error_code& ec) {
  if (ec) return;  // replaced by a nearer wait, or the flow is over
  timer_expiry_ = tcp::time_point::max();  // no wait pending
  if (ep_.is_closed()) return;
  if (idle_since_ && !stream_.is_tls() && ep_.idle_with_buffers() &&
      tcp::clock::now() - *idle_since_ >= buffer_release_delay) {
    ep_.release_buffers();
    idle_since_.reset();
  }
  armed_deadline_ = tcp::time_point::min();  // so flush() arms the timer again
  flush();
  after_change();
}

}  // namespace netpen::relay
