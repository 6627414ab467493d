// How long the relay's thread polls for more work before it sleeps. Pure
// logic; the thread loop (data_path.cpp) asks and reports, this decides.
//
// Theory of operation. A relayed round trip wakes the relay's thread twice
// (the tap has the request, the host socket has the answer) where the
// direct path wakes nobody in between, and a wake-up is what a round trip
// costs most: the waker pays for it (on a VM an interprocessor interrupt
// traps to the hypervisor) and the woken thread starts late. A thread that
// is still polling when the next event comes is not woken at all. So after
// its last handler the thread polls (runs whatever is ready, without
// blocking) for up to `max` before it blocks, but only while events come
// close together: when the idle period that just ended was no longer than
// `recent` (a few times `max`: a sleeping thread's idle periods are longer
// by the wake-up itself, so a bar of `max` would keep a thread that once
// slept from ever polling again), the next one polls; after a longer one
// (sporadic traffic, an idle tree) the thread blocks at once, so a quiet
// relay spends nothing on polling and a busy one at most `max` an idle
// period. `max` of zero never polls. And only with a CPU to spare: polling
// holds a CPU, which on a machine whose CPUs are all wanted (the caller
// reports the machine's runnable tasks now and then) is taken from the
// tree or its peers; while the runnable tasks average more than half a
// task beyond the CPUs, the thread blocks at once.
#pragma once
#include <chrono>

namespace netpen::relay {

class idle_spin {
 public:
  using duration = std::chrono::nanoseconds;

  static constexpr int recent_factor = 4;

  explicit idle_spin(duration max) : max_(max), next_(max) {}

  // How long to poll in the idle period starting now.
  duration budget() const { return crowded() ? duration::zero() : next_; }
  // The same on a machine with CPUs to spare: while it is not zero, the
  // caller keeps sampling the machine's load.
  duration budget_if_free() const { return next_; }

  // A sample of the machine: `runnable` tasks (this thread among them)
  // on `cpus` CPUs. Averaged over the last 8 or so samples.
  void machine_load(int runnable, int cpus) {
    const long excess = static_cast<long>(runnable - cpus) * scale;
    excess_ += (excess - excess_) / 8;
  }

  // The idle period ended after `idle` (polling and blocking together).
  void idle_ended(duration idle) { next_ = idle <= max_ * recent_factor ? max_ : duration::zero(); }

 private:
  static constexpr long scale = 256;  // fixed point for the average
  bool crowded() const { return excess_ > scale / 2; }

  duration max_;
  duration next_;
  long excess_ = 0;  // runnable tasks beyond the CPUs, averaged, x scale
};

}  // namespace netpen::relay
