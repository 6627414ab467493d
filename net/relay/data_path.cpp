// The relay's thread pool and lifecycle (see data_path.hpp).
#include "net/relay/data_path.hpp"

#include <asio/co_spawn.hpp>
#include <asio/steady_timer.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdlib>
#include <string_view>

#include "net/common/asio_helpers.hpp"
#include "net/common/log.hpp"
#include "net/relay/idle_spin.hpp"

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

// How long the relay's thread polls before it sleeps (idle_spin.hpp):
// NETPEN_SPIN_US microseconds (up to 1000), 0 to never poll; 30 by default
// (of 15, 30 and 50, the best round trip: docs/performance.md, fifth round).
std::chrono::microseconds spin_time() {
  constexpr int fallback = 30;
  const char* v = std::getenv("NETPEN_SPIN_US");
  if (v == nullptr) return std::chrono::microseconds(fallback);
  const int n = std::atoi(v);
  return std::chrono::microseconds(n >= 0 && n <= 1000 ? n : fallback);
}

// The machine's runnable tasks now: the fourth field of /proc/loadavg
// ("1.00 0.50 0.20 3/210 4242": 3), read from `fd`; -1 if unreadable.
int runnable_tasks(int fd) {
  std::array<char, 128> buf{};
  const ssize_t n = ::pread(fd, buf.data(), buf.size() - 1, 0);
  if (n <= 0) return -1;
  std::string_view text(buf.data(), static_cast<std::size_t>(n));
  for (int field = 0; field < 3; ++field) {
    const auto space = text.find(' ');
    if (space == std::string_view::npos) return -1;
    text.remove_prefix(space + 1);
  }
  int tasks = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), tasks);
  return ec == std::errc{} && end != text.data() ? tasks : -1;
}

// One thread's loop. With polling: drain what is ready, poll for the spin
// budget, and only then block for the next handler. The machine's load is
// sampled at most every 200 us, when the thread would poll.
void run_thread(asio::io_context& ctx, std::chrono::microseconds spin_max) {
  const int loadavg = spin_max.count() == 0 ? -1 : ::open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
  if (loadavg < 0) {  // no way to tell a crowded machine: never poll
    ctx.run();
    return;
  }
  using clock = std::chrono::steady_clock;
  constexpr auto sample_every = std::chrono::microseconds(200);
  const int cpus = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  idle_spin spin(spin_max);
  auto sampled = clock::time_point{};
  while (!ctx.stopped()) {
    while (ctx.poll() > 0) {
    }
    const auto idle_from = clock::now();
    if (spin.budget_if_free().count() > 0 && idle_from - sampled >= sample_every) {
      if (const int tasks = runnable_tasks(loadavg); tasks > 0) spin.machine_load(tasks, cpus);
      sampled = idle_from;
    }
    const auto poll_until = idle_from + spin.budget();
    bool woke = false;
    while (!woke && clock::now() < poll_until && !ctx.stopped()) woke = ctx.poll() > 0;
    if (!woke) ctx.run_one();
    spin.idle_ended(clock::now() - idle_from);
  }
  ::close(loadavg);
}

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
  // Several threads would poll one scheduler against each other: only a
  // lone thread polls.
  const auto spin = threads_wanted_ == 1 ? spin_time() : std::chrono::microseconds(0);
  for (unsigned i = 0; i < threads_wanted_; ++i) threads_.emplace_back([this, spin] { run_thread(ctx_, spin); });
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
