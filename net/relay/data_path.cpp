// The relay's thread pool and lifecycle (see data_path.hpp).
#include "net/relay/data_path.hpp"

#include <asio/co_spawn.hpp>
#include <asio/steady_timer.hpp>

#include <cstdlib>

#include "net/common/asio_helpers.hpp"
#include "net/common/log.hpp"

namespace netpen::relay {
namespace {

// The relay shares the machine with the command and its peers: half the
// cores (one on a 2-core machine, where a second relay thread only adds
// cross-thread wake-ups: measured in docs/performance.md). NETPEN_THREADS
// overrides it.
unsigned thread_count(unsigned wanted) {
  if (wanted != 0) return wanted;
  if (const char* v = std::getenv("NETPEN_THREADS")) {
    const int n = std::atoi(v);
    if (n >= 1 && n <= 64) return static_cast<unsigned>(n);
  }
  return std::max(1u, std::thread::hardware_concurrency() / 2);
}

// One thread: Asio may then queue work posted from that thread on the
// thread itself, instead of waking the reactor (an epoll_ctl per post).
int concurrency_hint(unsigned threads) { return threads == 1 ? 1 : ASIO_CONCURRENCY_HINT_DEFAULT; }

}  // namespace

data_path::data_path(data_path_options opts)
    : threads_wanted_(thread_count(opts.threads)),
      ctx_(concurrency_hint(threads_wanted_)),
      services_(ctx_, std::move(opts.services)),
      host_ports_(ctx_, services_, opts.engine.udp),
      engine_(ctx_, services_, pool_, opts.engine),
      udp_expiry_(opts.engine.udp) {
  engine_.route_host_ports(&host_ports_);
}

data_path::~data_path() { stop(); }

result<void> data_path::start() {
  if (auto started = services_.start(); !started) return started;
  work_.emplace(ctx_.get_executor());
  for (unsigned i = 0; i < threads_wanted_; ++i) threads_.emplace_back([this] { ctx_.run(); });
  log::debug("relay started with {} threads; DNS over TCP served at {}:{}", threads_wanted_,
             services_.settings().dns_tcp.address().to_string(), services_.settings().dns_tcp.port());
  return {};
}

void data_path::attach_tap(int tap_fd) {
  engine_.attach_tap(tap_fd, threads_wanted_ == 1);
  start_stats();
}

result<void> data_path::attach_kernel_path(kernel_path path) {
  gate_ = std::make_unique<kernel_gate>(ctx_, services_, std::move(path));
  if (auto started = gate_->start(); !started) return started;
  start_stats();
  return {};
}

void data_path::start_stats() {
  const auto every = stats_interval(std::getenv("NETPEN_STATS"));
  if (!every) return;
  asio::co_spawn(ctx_, report_sizes_every(*every), log_failure("the stats line"));
}

// Ends with the io_context (stop() stops it; the timer's wait never completes).
asio::awaitable<void> data_path::report_sizes_every(std::chrono::seconds every) {
  asio::steady_timer timer(ctx_);
  for (;;) {
    timer.expires_after(every);
    auto [ec] = co_await timer.async_wait(use_tuple);
    if (ec || stopped_.load()) co_return;
    report_sizes();
  }
}

// The engine's part (or the gate's) on its strand, then the services' on
// theirs, then one line.
void data_path::report_sizes() {
  auto with_services = [this](relay_sizes s) {
    services_.sizes(s, [](relay_sizes all) { log::write_line("netpen: stats: " + to_text(all)); });
  };
  if (gate_)
    gate_->sizes(with_services);
  else
    engine_.sizes(with_services);
}

void data_path::publish(std::vector<bound_port> ports, inbound_options opts) {
  if (ports.empty()) return;
  inbound_ = std::make_unique<inbound_paths>(ctx_, services_, gate_ ? nullptr : &engine_, std::move(opts));
  publish_ = std::make_unique<publish_server>(ctx_, services_, *inbound_, udp_expiry_);
  publish_->start(std::move(ports));
}

void data_path::stop() {
  if (stopped_.exchange(true)) return;
  if (threads_.empty()) return;
  if (publish_) publish_->stop();
  if (inbound_) inbound_->stop();
  engine_.stop_flows();
  host_ports_.stop();
  if (gate_) gate_->stop();
  services_.stop();
  work_.reset();
  ctx_.stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

engine_stats data_path::stats() const { return engine_.stats(); }

}  // namespace netpen::relay
