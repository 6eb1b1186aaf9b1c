// Calls per second per agency, over every transport: a token bucket per
// agency id that refills at `per_second` up to `burst`. A call beyond it is
// refused with RESOURCE_EXHAUSTED, reason RATE_LIMITED (HTTP 429), before
// anything is read or stored. Time comes from the injected clock.
// Thread-safe.

#ifndef SAMPLAN_APP_RATE_LIMITER_H_
#define SAMPLAN_APP_RATE_LIMITER_H_

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"

namespace samplan::app {

class RateLimiter {
 public:
  // `clock` must outlive the limiter. `per_second` > 0, `burst` >= 1.
  RateLimiter(const Clock& clock, double per_second, int burst);

  // OK and one token taken, or RESOURCE_EXHAUSTED (reason RATE_LIMITED,
  // metadata "retry_after_ms") when the agency's bucket is empty.
  absl::Status Take(absl::string_view agency_id);

 private:
  struct Bucket {
    double tokens = 0;
    absl::Time at;
  };
  static constexpr size_t kMaxAgencies = 65536;

  const Clock& clock_;
  const double per_second_;
  const double burst_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
};

}  // namespace samplan::app

#endif  // SAMPLAN_APP_RATE_LIMITER_H_
