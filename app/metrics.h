// What an operator watches, in Prometheus' text exposition format (0.0.4):
// calls by method and status code with a latency histogram per method,
// commit batches (jobs per batch, time per batch), and gauges the server
// refreshes from storage (audit tree size, age of the newest checkpoint,
// grants ending soon, whether storage answers). Transport-free; a listener
// serves Render() (server/rest_server.h).
//
// Recording is lock-free (atomics) and cheap enough for every call.
// Methods are registered before serving starts; names and labels carry no
// personal data, only method names and status codes.

#ifndef SAMPLAN_APP_METRICS_H_
#define SAMPLAN_APP_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace samplan::app {

class Metrics {
 public:
  // Upper bounds of the latency and batch-duration buckets, in seconds.
  static constexpr std::array<double, 14> kSeconds = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
      0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  // Upper bounds of the jobs-per-batch buckets.
  static constexpr std::array<double, 9> kJobs = {1,  2,  4,   8,  16,
                                                  32, 64, 128, 256};

  Metrics() = default;
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Registers a method by its full name ("samplan.v1.PlanService.GetPlan")
  // and returns its index for RecordCall. Call before serving.
  int AddMethod(absl::string_view full_name);

  void RecordCall(int method, absl::StatusCode code, absl::Duration latency);

  // A call that failed on the server's side (INTERNAL, DATA_LOSS,
  // UNAVAILABLE, UNKNOWN) goes to `hook` with its method's full name, for
  // the operators' log; other outcomes are the caller's business and are
  // only counted. Set before serving. Status messages name fields and
  // storage operations, never values.
  using FaultHook =
      std::function<void(absl::string_view method, const absl::Status&)>;
  void OnServerFault(FaultHook hook) { fault_hook_ = std::move(hook); }
  void RecordFault(int method, const absl::Status& status) const;
  void RecordBatch(int jobs, absl::Duration duration);

  // The gauges. `checkpoint_time` is when the newest checkpoint was
  // signed (InfiniteFuture: none yet).
  struct StorageState {
    bool up = false;
    int64_t audit_tree_size = 0;
    absl::Time checkpoint_time = absl::InfiniteFuture();
    int64_t grants_ending_soon = 0;
  };
  void SetStorageState(const StorageState& state);

  // How far ahead "grants ending soon" looks.
  static constexpr absl::Duration kEndingSoon = absl::Hours(24 * 30);

  // Everything, as of `now` (for the checkpoint's age).
  std::string Render(absl::Time now) const;

 private:
  template <size_t N>
  struct Histogram {
    std::array<std::atomic<int64_t>, N + 1> buckets{};  // the last is +Inf
    std::atomic<int64_t> count{0};
    std::atomic<double> sum{0};
    void Observe(const std::array<double, N>& bounds, double v);
  };
  struct MethodStats {
    std::string name;
    std::array<std::atomic<int64_t>, 17> calls{};  // by absl::StatusCode
    Histogram<kSeconds.size()> latency;
  };

  std::deque<MethodStats> methods_;  // stable addresses; grows before serving
  FaultHook fault_hook_;
  Histogram<kJobs.size()> batch_jobs_;
  Histogram<kSeconds.size()> batch_seconds_;
  std::atomic<bool> up_{false};
  std::atomic<int64_t> tree_size_{0};
  std::atomic<int64_t> checkpoint_unix_micros_{0};
  std::atomic<bool> has_checkpoint_{false};
  std::atomic<int64_t> ending_soon_{0};
};

}  // namespace samplan::app

#endif  // SAMPLAN_APP_METRICS_H_
