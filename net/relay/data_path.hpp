// The relay as the run uses it: one thread pool, the services every flow
// shares (DNS, policy, events: flow_services), and the data path of the
// backend: the rootless engine reading the tap, or the rootful kernel gate.
//
//   start()               the services (DNS forwarder, TLS) and the threads
//   attach_tap(fd)        rootless: the engine owns the tap from here
//   attach_kernel_path()  rootful: the gate serves the queue and conntrack
//   serve_host_ports(fds) --host-port: the listeners inside the tree (and
//                         on the gateway under --root); see host_port_relay
//   publish(ports, opts)  --publish: serve the bound ports (after the attach)
//   NETPEN_STATS=SECONDS  from the attach on, every SECONDS a line
//                         "netpen: stats: ..." on stderr with what the relay
//                         holds (relay_sizes.hpp; scripts/soak reads it)
//   stop()                the published ports closed, flows shut down and waited for (bounded), the
//                         gate closed, DNS stopped, queued events published,
//                         threads joined
// See docs/architecture.md for the layers and the flow lifecycle.
#pragma once
#include <asio/awaitable.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "net/common/error.hpp"
#include "net/relay/engine.hpp"
#include "net/relay/flow_services.hpp"
#include "net/relay/host_port_relay.hpp"
#include "net/relay/inbound_paths.hpp"
#include "net/relay/publish_server.hpp"
#include "net/relay/kernel_gate.hpp"
#include "net/relay/packet_pool.hpp"

namespace netpen::relay {

struct data_path_options {
  services_options services;
  engine_options engine;
  unsigned threads = 0;  // 0: NETPEN_THREADS, else half the cores (at least 1)
};

class data_path {
 public:
  explicit data_path(data_path_options opts);
  ~data_path();
  data_path(const data_path&) = delete;
  data_path& operator=(const data_path&) = delete;

  result<void> start();
  void attach_tap(int tap_fd);
  result<void> attach_kernel_path(kernel_path path);
  // Takes ownership of --host-port's listening sockets and serves them.
  result<void> serve_host_ports(std::vector<int> fds) { return host_ports_.serve(std::move(fds)); }
  // The sandbox's init: flows' processes are looked up among its tree.
  void set_tree(pid_t init_pid) { services_.set_tree(init_pid); }
  // An event from outside the engine (any thread), published with the rest.
  void raise(events::event e) { services_.emit(std::move(e)); }
  // --publish: serves the ports bound before the command ran (after
  // attach_tap or attach_kernel_path; see inbound_paths.hpp for the routes).
  void publish(std::vector<bound_port> ports, inbound_options opts);
  void stop();
  engine_stats stats() const;

 private:
  // NETPEN_STATS: the periodic stats line (started by the attach).
  void start_stats();
  asio::awaitable<void> report_sizes_every(std::chrono::seconds every);
  void report_sizes();

  unsigned threads_wanted_;
  packet_pool pool_;  // before ctx_: buffers held by pending handlers return here
  asio::io_context ctx_;
  // Keeps the threads in run() until stop() has drained the events: without
  // it they return as soon as the last socket closes, and work posted after
  // that (the final events) would never run.
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  flow_services services_;
  host_port_relay host_ports_;
  engine engine_;
  std::unique_ptr<kernel_gate> gate_;
  std::unique_ptr<inbound_paths> inbound_;
  std::unique_ptr<publish_server> publish_;
  udp_idle_expiry udp_expiry_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopped_{false};
};

}  // namespace netpen::relay
