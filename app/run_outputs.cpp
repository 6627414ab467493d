// A run's outputs (see run_outputs.hpp).
#include "app/run_outputs.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>

#include "net/common/log.hpp"
#include "net/events/json_event.hpp"

namespace netpen::app {
namespace {

bool is_warning(const events::event& e) {
  return e.what == events::kind::proxy_failed || e.what == events::kind::denied || e.what == events::kind::error ||
         e.what == events::kind::warning;
}

std::string describe_run(const events::run_info& info) {
  std::string text = "command: " + info.command + "; backend: " + info.backend;
  for (const auto& c : info.controls) text += "; " + c;
  return text;
}

}  // namespace

capture::point run_outputs::capture_point_of(capture_point p) {
  switch (p) {
    case capture_point::child: return capture::point::child;
    case capture_point::egress: return capture::point::egress;
    case capture_point::wire_egress: return capture::point::wire_egress;
    case capture_point::both: return capture::point::both;
  }
  return capture::point::child;
}

std::optional<std::pair<uid_t, gid_t>> invoking_user() {
  if (::geteuid() != 0) return std::nullopt;
  const char* u = std::getenv("SUDO_UID");
  const char* g = std::getenv("SUDO_GID");
  if (u == nullptr || g == nullptr) return std::nullopt;
  unsigned uid = 0, gid = 0;
  if (std::from_chars(u, u + std::strlen(u), uid).ec != std::errc() ||
      std::from_chars(g, g + std::strlen(g), gid).ec != std::errc())
    return std::nullopt;
  return std::pair<uid_t, gid_t>{uid, gid};
}

result<std::unique_ptr<run_outputs>> run_outputs::open(const run_config& cfg, events::run_info info) {
  std::unique_ptr<run_outputs> out(new run_outputs());
  out->info_ = std::move(info);
  if (cfg.analyse) out->live_.emplace(events::want_colour(STDERR_FILENO));
  if (cfg.summary) {
    out->summary_.emplace();
    out->summary_->start(out->info_);
    out->summary_format_ = cfg.summary_format;
  }
  if (cfg.learn_path) {
    out->learner_.emplace();
    out->learn_path_ = *cfg.learn_path;
  }
  const auto owner = invoking_user();
  if (cfg.flow_log_path) {
    const int fd = ::open(cfg.flow_log_path->c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    // (the option check found the path writable; what fails here is a race: usage still)
    if (fd < 0) return fail("usage", "cannot write the flow log '" + *cfg.flow_log_path + "': " + std::strerror(errno));
    if (owner) (void)::fchown(fd, owner->first, owner->second);
    out->log_ = ::fdopen(fd, "w");
    if (out->log_ == nullptr) {
      ::close(fd);
      return fail("flow-log", "cannot write the flow log '" + *cfg.flow_log_path + "'");
    }
    out->log_path_ = *cfg.flow_log_path;
    out->write_log_line(events::run_start_line(out->info_));
  }
  if (cfg.capture_path) {
    auto cap = capture::tree_capture::open(*cfg.capture_path, capture_point_of(cfg.capture_at),
                                           describe_run(out->info_), owner, cfg.backend == backend_kind::rootful);
    if (!cap) {
      if (cap.error().code == "capture-open") return fail("usage", cap.error().message);  // the user's path
      return unexpected<error>(cap.error());
    }
    out->capture_ = std::move(*cap);
    out->capture_->set_on_write_error([failed = &out->capture_failed_](const error& e) {
      failed->store(true);
      log::error("{}; the capture is incomplete from here on (the run goes on; netpen will not exit 0) [{}]",
                 e.message, e.code);
    });
  }
  return out;
}

run_outputs::~run_outputs() {
  if (log_ != nullptr) std::fclose(log_);
}

void run_outputs::write_log_line(const std::string& line) {
  if (log_ == nullptr || log_failed_) return;
  errno = 0;
  // a reader (tail -f) sees each event as it happens: flushed every line
  if (std::fputs(line.c_str(), log_) >= 0 && std::fputc('\n', log_) != EOF && std::fflush(log_) == 0) return;
  const int err = errno != 0 ? errno : EIO;
  log_failed_ = true;  // said once; nothing more is written
  log::error("cannot write the flow log '{}': {}; the log is incomplete from here on (the run goes on; netpen "
             "will not exit 0) [flow-log-write]",
             log_path_, std::strerror(err));
}

void run_outputs::on_event(const events::event& e) {
  if (finished_) return;
  attempts_.add(e);
  if (live_) {
    if (auto line = live_->format(e, info_.time)) log::write_line(*line);
  } else if (is_warning(e) && log::current_level() >= log::level::normal) {
    log::write_line("netpen: " + events::to_text(e));
  } else if (!is_warning(e) && log::debug_enabled()) {
    log::write_line("netpen: debug: " + events::to_text(e));
  }
  write_log_line(events::to_json_line(e));
  if (summary_) summary_->add(e);
  if (learner_) learner_->add(e);
  if (capture_) capture_->on_event(e);
}

// Written only now: a run killed earlier leaves no half profile (an empty
// allow-list would allow everything).
void run_outputs::write_learned_profile() {
  if (!learner_) return;
  const std::string text = learner_->render(info_);
  const int fd = ::open(learn_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    log::error("--learn: cannot write '{}': {}", learn_path_, std::strerror(errno));
    return;
  }
  if (const auto owner = invoking_user()) (void)::fchown(fd, owner->first, owner->second);
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      log::error("--learn: cannot write '{}': {}", learn_path_, std::strerror(errno));
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
}

void run_outputs::on_claim(const events::event& e) {
  if (finished_ || !capture_) return;
  capture_->on_event(e);  // a flow_open again, now with its claim: only the comments take it
}

int run_outputs::finish(int exit_status) {
  if (finished_) return exit_status;
  finished_ = true;
  if (live_) {
    if (auto line = live_->flush_folded()) log::write_line(*line);
  }
  if (capture_) {
    capture_->close();
    for (const auto& err : capture_->errors())
      if (err.code != "capture-write") log::warn("capture: {}", err.message);  // a write error was said already
    if (capture_failed_.load())
      log::warn("capture: {} packets were not written", capture_->packets_dropped());
    else if (capture_->packets_dropped() > 0)
      log::warn("capture: {} packets were dropped (the disk could not keep up)", capture_->packets_dropped());
  }
  exit_status = status_with_outputs(exit_status, capture_failed_.load() || log_failed_);
  events::run_end end;
  end.exit_status = exit_status;
  end.duration = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started_);
  write_log_line(events::run_end_line(end));
  write_learned_profile();
  if (summary_) {
    summary_->finish(end);
    const auto s = summary_->result();
    std::string text = summary_format_ == output_format::json ? events::render_json(s) : events::render_text(s);
    if (!text.empty() && text.back() == '\n') text.pop_back();
    log::write_line(text);
  }
  // run_end was the log's last chance: a failure there is said now, and counts
  return status_with_outputs(exit_status, capture_failed_.load() || log_failed_);
}

}  // namespace netpen::app
