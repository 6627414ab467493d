// Tracks the forwarder's outstanding I/O (upstream exchanges, TCP service
// connections, the acceptor) so stop() can cancel all of it: each piece of
// work enrolls a cancel hook and holds a ticket while it runs. After stop()
// no enrollment succeeds.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

namespace netpen::dns {

class work_registry : public std::enable_shared_from_this<work_registry> {
 public:
  // Unregisters its hook when destroyed.
  class ticket {
   public:
    ticket(std::shared_ptr<work_registry> r, std::uint64_t id) : registry_(std::move(r)), id_(id) {}
    ticket(ticket&& o) noexcept : registry_(std::move(o.registry_)), id_(o.id_) {}
    ticket& operator=(ticket&&) = delete;
    ticket(const ticket&) = delete;
    ticket& operator=(const ticket&) = delete;
    ~ticket() {
      if (registry_) registry_->remove(id_);
    }

   private:
    std::shared_ptr<work_registry> registry_;
    std::uint64_t id_;
  };

  // `cancel` must be safe to call from any thread (typically it posts a
  // close() to the work's strand). nullopt once stopped.
  std::optional<ticket> enroll(std::function<void()> cancel) {
    std::lock_guard lock(mutex_);
    if (stopped_) return std::nullopt;
    const auto id = next_id_++;
    hooks_.emplace(id, std::move(cancel));
    return ticket(shared_from_this(), id);
  }

  bool stopped() const {
    std::lock_guard lock(mutex_);
    return stopped_;
  }

  // Refuses new work and cancels everything enrolled.
  void stop() {
    std::vector<std::function<void()>> hooks;
    {
      std::lock_guard lock(mutex_);
      stopped_ = true;
      for (auto& [id, hook] : hooks_) hooks.push_back(hook);
    }
    for (auto& h : hooks) h();
  }

 private:
  void remove(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    hooks_.erase(id);
  }

  mutable std::mutex mutex_;
  bool stopped_ = false;
  std::uint64_t next_id_ = 0;
  std::unordered_map<std::uint64_t, std::function<void()>> hooks_;
};

}  // namespace netpen::dns
