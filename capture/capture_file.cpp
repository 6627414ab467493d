// The pcapng file sink: a queue of encoded blocks drained by a writer thread.
#include "capture/capture_file.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <system_error>

namespace netpen::capture {

namespace {

// The two buffers (the queue and the batch being written) keep their
// capacity while packets keep coming: a buffer given back and grown again
// costs a page fault every 4 KiB (on a VM, about 5,000 a second and a tenth
// of a CPU in a full-rate download). Once nothing has been queued for
// idle_release, what is above keep_buffer_capacity is given back.
constexpr std::size_t keep_buffer_capacity = std::size_t{4} << 20;
constexpr std::chrono::seconds idle_release{1};

void release_above_keep(bytes& b) {
  if (b.capacity() > keep_buffer_capacity) bytes().swap(b);
}

std::string describe(int err) { return std::generic_category().message(err); }

// 0 on success, else the errno of the failed write(2).
int write_all(int fd, std::span<const std::byte> data) {
  while (!data.empty()) {
    const auto n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;
    data = data.subspan(static_cast<std::size_t>(n));
  }
  return 0;
}

}  // namespace

std::uint64_t wall_clock_ns() {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count());
}

result<std::unique_ptr<capture_file>> capture_file::create(const std::string& path, const section_info& section,
                                                           const std::vector<interface_info>& interfaces,
                                                           std::optional<std::pair<uid_t, gid_t>> owner,
                                                           std::size_t max_queued_bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail("capture-open", "cannot create capture file " + path + ": " + describe(errno));
  // From here the object owns fd and closes it on every path.
  std::unique_ptr<capture_file> file(new capture_file(fd, path, interfaces.size(), max_queued_bytes));

  if (owner) {
    struct stat st {};
    if (::fstat(fd, &st) != 0)
      return fail("capture-open", "cannot stat capture file " + path + ": " + describe(errno));
    // Never hand a device (say /dev/null) or a FIFO over to the user.
    if (S_ISREG(st.st_mode) && ::fchown(fd, owner->first, owner->second) != 0)
      return fail("capture-chown", "cannot give capture file " + path + " to uid " + std::to_string(owner->first) +
                                       ": " + describe(errno));
  }

  bytes header = section_header(section);
  for (const auto& itf : interfaces) {
    const auto idb = interface_description(itf);
    header.insert(header.end(), idb.begin(), idb.end());
  }
  if (const int err = write_all(fd, header); err != 0)
    return fail("capture-write", "cannot write capture file " + path + ": " + describe(err));

  return file;
}

result<void> capture_file::start() {
  const std::lock_guard guard(close_mu_);
  if (closed_ || writer_.joinable()) return {};
  try {
    writer_ = std::thread([this] { run(); });
  } catch (const std::system_error& e) {
    return fail("capture-thread", std::string("cannot start the capture writer thread: ") + e.what());
  }
  return {};
}

capture_file::capture_file(int fd, std::string path, std::size_t interface_count, std::size_t max_queued_bytes)
    : path_(std::move(path)), interface_count_(interface_count), max_queued_bytes_(max_queued_bytes), fd_(fd) {}

capture_file::~capture_file() { close(); }

void capture_file::set_on_error(std::function<void(const error&)> callback) {
  const std::lock_guard lk(mu_);
  on_error_ = std::move(callback);
}

std::optional<error> capture_file::last_error() const {
  const std::lock_guard lk(mu_);
  return error_;
}

void capture_file::packet(std::uint32_t interface_id, std::uint64_t timestamp_ns, std::span<const std::byte> data,
                          std::uint32_t original_length, std::string_view comment) {
  const std::span<const std::byte> pieces[] = {data};
  packet(interface_id, timestamp_ns, pieces, original_length, comment);
}

void capture_file::packet(std::uint32_t interface_id, std::uint64_t timestamp_ns,
                          std::span<const std::span<const std::byte>> pieces, std::uint32_t original_length,
                          std::string_view comment) {
  std::size_t length = 0;
  for (const auto& p : pieces) length += p.size();
  const auto size = enhanced_packet_size(length, comment.size());
  bool wake = false;
  {
    const std::lock_guard lk(mu_);
    if (closing_ || failed_ || interface_id >= interface_count_ ||
        pending_.size() + in_flight_ + size > max_queued_bytes_) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    wake = must_wake_locked(size);
    append_enhanced_packet(pending_, interface_id, timestamp_ns, pieces, original_length, comment);
    ++pending_packets_;
  }
  if (wake) cv_.notify_one();
}

bool capture_file::must_wake_locked(std::size_t adding) const {
  // The writer sleeps until the first block arrives, then gathers more for
  // up to batch_wait; it is woken early only when a batch is full.
  return pending_.empty() || (pending_.size() < batch_bytes && pending_.size() + adding >= batch_bytes);
}

void capture_file::names(const std::vector<name_record>& records) {
  const auto blocks = name_resolution(records);
  if (blocks.empty()) return;
  bool wake = false;
  {
    const std::lock_guard lk(mu_);
    if (closing_ || failed_ || pending_.size() + in_flight_ + blocks.size() > max_queued_bytes_) return;
    wake = must_wake_locked(blocks.size());
    pending_.insert(pending_.end(), blocks.begin(), blocks.end());
  }
  if (wake) cv_.notify_one();
}

void capture_file::fail_locked(int err) {
  failed_ = true;
  error_ = error{"capture-write", "cannot write capture file " + path_ + ": " + describe(err)};
  dropped_.fetch_add(pending_packets_, std::memory_order_relaxed);
  pending_packets_ = 0;
  bytes().swap(pending_);
}

void capture_file::run() {
  // Process signals go to other threads; a write to a pipe whose reader is
  // gone fails with EPIPE here instead of killing netpen with SIGPIPE.
  sigset_t all;
  sigfillset(&all);
  sigdelset(&all, SIGSYS);  // synchronous: self-confinement reports a refused call on this thread
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  drain();
}

void capture_file::drain() {
  bytes writing;
  std::unique_lock lk(mu_);
  for (;;) {
    const auto queued = [this] { return !pending_.empty() || closing_; };
    if (!cv_.wait_for(lk, idle_release, queued)) {
      release_above_keep(writing);
      release_above_keep(pending_);  // empty: nothing queued
      cv_.wait(lk, queued);
    }
    if (pending_.empty()) return;  // closing, and everything is written
    // One write (and one wake-up) per batch, not per packet.
    cv_.wait_for(lk, batch_wait, [this] { return pending_.size() >= batch_bytes || closing_; });
    writing.swap(pending_);
    const auto batch_packets = std::exchange(pending_packets_, 0);
    in_flight_ = writing.size();
    lk.unlock();

    const int err = write_all(fd_, writing);
    writing.clear();

    lk.lock();
    in_flight_ = 0;
    if (err == 0) {
      written_.fetch_add(batch_packets, std::memory_order_relaxed);
      continue;
    }
    dropped_.fetch_add(batch_packets, std::memory_order_relaxed);
    fail_locked(err);
    const auto callback = std::move(on_error_);
    const auto reported = *error_;
    lk.unlock();
    if (callback) callback(reported);
    return;
  }
}

void capture_file::close() {
  const std::lock_guard guard(close_mu_);
  if (closed_) return;
  closed_ = true;
  {
    const std::lock_guard lk(mu_);
    closing_ = true;
  }
  cv_.notify_one();
  if (writer_.joinable())
    writer_.join();
  else
    drain();  // never started: what was queued is written here
  if (::close(fd_) != 0) {
    const int err = errno;
    const std::lock_guard lk(mu_);
    if (!failed_ && err != EINTR) fail_locked(err);
  }
  fd_ = -1;
}

}  // namespace netpen::capture
