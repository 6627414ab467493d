// Round-trip time estimation and retransmission timeout per RFC 6298:
// SRTT/RTTVAR smoothing, RTO = SRTT + max(G, 4*RTTVAR), clamped to bounds.
// Karn's rule (no samples from retransmitted segments) is the caller's job.
#pragma once
#include <algorithm>
#include <chrono>

namespace netpen::tcp {

class rtt_estimator {
 public:
  using duration = std::chrono::steady_clock::duration;

  rtt_estimator(duration initial, duration min, duration max)
      : min_(min), max_(max), rto_(std::clamp(initial, min, max)) {}

  void sample(duration r) {
    if (r < duration::zero()) r = duration::zero();
    if (!has_sample_) {
      srtt_ = r;
      rttvar_ = r / 2;
      has_sample_ = true;
    } else {
      duration err = srtt_ > r ? srtt_ - r : r - srtt_;
      rttvar_ = (rttvar_ * 3 + err) / 4;
      srtt_ = (srtt_ * 7 + r) / 8;
    }
    rto_ = std::clamp(srtt_ + std::max(granularity(), rttvar_ * 4), min_, max_);
  }

  bool has_sample() const { return has_sample_; }
  duration srtt() const { return srtt_; }
  duration rttvar() const { return rttvar_; }
  // The timeout before any backoff.
  duration rto() const { return rto_; }

 private:
  static constexpr duration granularity() { return std::chrono::milliseconds(1); }
  duration min_, max_;
  duration rto_;
  duration srtt_{};
  duration rttvar_{};
  bool has_sample_ = false;
};

}  // namespace netpen::tcp
