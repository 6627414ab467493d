// A pcapng capture file written by a background thread.
//
// create() writes the SHB and the IDBs synchronously (so a bad path fails at
// once), then a writer thread appends queued blocks with write(2): whatever
// is queued is written in one go, then the thread waits for more. Nothing is
// held back in user space, so the file is a valid pcapng up to its last
// complete block even if netpen is killed. No fsync.
//
// packet() and names() never touch the disk: they copy the block into the
// queue under a mutex held only for that copy. Memory is bounded: a packet
// that would make the bytes not yet written (queued plus the batch being
// written) exceed max_queued_bytes is dropped and counted; so are packets
// for an unknown interface id, and packets given after close() or after a
// write error. An NRB that does not fit is dropped silently.
//
// The writer gathers blocks for up to batch_wait (or until batch_bytes are
// queued) before each write, so a busy capture costs one wake-up per batch;
// a kill loses at most that much. Its two buffers keep their size while a
// capture is busy (no page faults per batch) and shrink after a second idle.
//
// A write error stops writing for good. It is kept for last_error() and
// passed once to the on_error callback, on the writer thread.
#pragma once
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "capture/pcapng.hpp"
#include "net/common/error.hpp"

namespace netpen::capture {

inline constexpr std::size_t default_max_queued_bytes = std::size_t{32} << 20;
inline constexpr std::size_t batch_bytes = std::size_t{1} << 20;
inline constexpr std::chrono::milliseconds batch_wait{10};

// Nanoseconds since the Unix epoch (CLOCK_REALTIME), the EPB timestamp unit.
std::uint64_t wall_clock_ns();

class capture_file {
 public:
  // Creates or truncates `path` (0644 before umask) and writes the SHB and
  // one IDB per entry of `interfaces` (interface id = index). When `owner`
  // is given and `path` is a regular file, the file is chowned to it (the
  // invoking user when netpen runs as root for someone). Error codes:
  // capture-open, capture-chown, capture-write. Packets are queued until
  // start() gives the file its writer thread.
  static result<std::unique_ptr<capture_file>> create(const std::string& path, const section_info& section,
                                                      const std::vector<interface_info>& interfaces,
                                                      std::optional<std::pair<uid_t, gid_t>> owner,
                                                      std::size_t max_queued_bytes = default_max_queued_bytes);

  // Starts the writer thread (idempotent). Separate from create() so that a
  // file can be opened before netpen forks the sandbox and written after:
  // no thread may exist at that fork. Error code: capture-thread.
  result<void> start();

  capture_file(const capture_file&) = delete;
  capture_file& operator=(const capture_file&) = delete;
  ~capture_file();  // close()

  // Set before the first packet. Called at most once, on the writer thread,
  // with code capture-write; must not call back into this object.
  void set_on_error(std::function<void(const error&)> callback);

  // Thread-safe; queues an EPB (the data and comment are copied).
  void packet(std::uint32_t interface_id, std::uint64_t timestamp_ns, std::span<const std::byte> data,
              std::uint32_t original_length, std::string_view comment = {});
  // The same, the data given as pieces in order (copied once, into the queue).
  void packet(std::uint32_t interface_id, std::uint64_t timestamp_ns,
              std::span<const std::span<const std::byte>> pieces, std::uint32_t original_length,
              std::string_view comment = {});
  // Thread-safe; queues the NRB(s) for `records`.
  void names(const std::vector<name_record>& records);

  // Writes everything queued, stops the writer and closes the file.
  // Idempotent, thread-safe; also done by the destructor.
  void close();

  std::uint64_t packets_written() const { return written_.load(std::memory_order_relaxed); }
  std::uint64_t packets_dropped() const { return dropped_.load(std::memory_order_relaxed); }
  std::optional<error> last_error() const;
  const std::string& path() const { return path_; }

 private:
  capture_file(int fd, std::string path, std::size_t interface_count, std::size_t max_queued_bytes);
  void run();    // the writer thread
  void drain();  // writes batches until closing with nothing queued
  void fail_locked(int err);
  bool must_wake_locked(std::size_t adding) const;

  const std::string path_;
  const std::size_t interface_count_;
  const std::size_t max_queued_bytes_;
  int fd_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bytes pending_;                    // blocks queued, in order
  std::uint64_t pending_packets_ = 0;  // EPBs in pending_
  std::size_t in_flight_ = 0;        // bytes of the batch being written
  bool closing_ = false;
  bool failed_ = false;
  std::optional<error> error_;
  std::function<void(const error&)> on_error_;
  std::atomic<std::uint64_t> written_{0};
  std::atomic<std::uint64_t> dropped_{0};

  std::mutex close_mu_;
  bool closed_ = false;
  std::thread writer_;
};

}  // namespace netpen::capture
