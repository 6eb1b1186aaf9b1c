#include "app/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/errors.h"

namespace samplan::app {

RateLimiter::RateLimiter(const Clock& clock, double per_second, int burst)
    : clock_(clock), per_second_(per_second), burst_(std::max(burst, 1)) {}

absl::Status RateLimiter::Take(absl::string_view agency_id) {
  const absl::Time now = clock_.Now();
  double missing = 0;
  {
    absl::MutexLock lock(&mu_);
    auto it = buckets_.find(agency_id);
    if (it == buckets_.end()) {
      // The registry bounds the agencies; this bounds the map regardless.
      if (buckets_.size() >= kMaxAgencies) buckets_.clear();
      it = buckets_.emplace(std::string(agency_id), Bucket{burst_, now}).first;
    }
    Bucket& b = it->second;
    if (now > b.at) {
      b.tokens = std::min(
          burst_, b.tokens + absl::ToDoubleSeconds(now - b.at) * per_second_);
      b.at = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return absl::OkStatus();
    }
    missing = 1 - b.tokens;
  }
  const int64_t retry_ms =
      static_cast<int64_t>(std::ceil(missing / per_second_ * 1000));
  return WithMetadata(
      WithReason(absl::ResourceExhaustedError(absl::StrCat(
                     "agency ", agency_id, " exceeds ", per_second_,
                     " calls per second; retry in ", retry_ms, " ms")),
                 "RATE_LIMITED"),
      "retry_after_ms", absl::StrCat(retry_ms));
}

}  // namespace samplan::app
