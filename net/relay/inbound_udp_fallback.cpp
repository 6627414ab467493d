// See inbound_udp_fallback.hpp.
#include "net/relay/inbound_udp_fallback.hpp"

#include "net/common/log.hpp"

namespace netpen::relay {

inbound_udp_fallback::inbound_udp_fallback(std::vector<route_fn> routes, inbound_connector::reply_fn reply)
    : routes_(std::move(routes)), reply_(std::move(reply)) {}

bool inbound_udp_fallback::open() {
  std::lock_guard lock(mu_);
  if (!open_from(0)) return false;
  key_ = path_->key();
  return true;
}

// The first route from `first` on that opens becomes the current one.
bool inbound_udp_fallback::open_from(std::size_t first) {
  std::weak_ptr<inbound_udp_fallback> weak = weak_from_this();
  for (current_ = first; current_ < routes_.size(); ++current_) {
    auto reply = [weak](std::vector<std::byte> payload) {
      if (auto self = weak.lock()) self->answered(std::move(payload));
    };
    auto refused = [weak, route = current_] {
      if (auto self = weak.lock()) self->refused(route);
    };
    path_ = routes_[current_](std::move(reply), std::move(refused));
    if (path_) return true;
  }
  return false;
}

void inbound_udp_fallback::send(std::span<const std::byte> payload) {
  std::lock_guard lock(mu_);
  if (closed_) return;
  if (!path_ && !open_from(0)) return;  // every route refused: try them all again
  path_->send(payload);
  if (answered_ || current_ + 1 >= routes_.size()) return;  // nothing to resend elsewhere
  if (unanswered_.size() >= unanswered_limit || unanswered_bytes_ + payload.size() > unanswered_bytes_limit) return;
  unanswered_.emplace_back(payload.begin(), payload.end());
  unanswered_bytes_ += payload.size();
}

void inbound_udp_fallback::close() {
  std::lock_guard lock(mu_);
  closed_ = true;
  if (path_) path_->close();
  path_.reset();
  unanswered_.clear();
}

std::size_t inbound_udp_fallback::route() const {
  std::lock_guard lock(mu_);
  return current_;
}

// The current route's server is not there: the next route, and the
// datagrams again.
void inbound_udp_fallback::refused(std::size_t route) {
  std::lock_guard lock(mu_);
  if (closed_ || answered_ || route != current_ || !path_) return;
  path_->close();
  path_.reset();
  if (!open_from(route + 1)) {
    log::debug("inbound UDP flow {}: refused on every route", to_string(key_));
    unanswered_.clear();
    return;
  }
  log::debug("inbound UDP flow {}: refused; route {} next", to_string(key_), current_);
  for (const auto& d : unanswered_) path_->send(d);
}

void inbound_udp_fallback::answered(std::vector<std::byte> payload) {
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    if (!answered_) {
      answered_ = true;
      unanswered_.clear();
      unanswered_bytes_ = 0;
    }
  }
  reply_(std::move(payload));
}

}  // namespace netpen::relay
