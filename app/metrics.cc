#include "app/metrics.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"

namespace samplan::app {
namespace {

constexpr int kCodes = 17;  // absl::StatusCode 0..16

// Prometheus' number format: integers as such, others shortest round-trip.
std::string Number(double v) { return absl::StrCat(v); }

void Header(std::string& out, absl::string_view name, absl::string_view type,
            absl::string_view help) {
  absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name, " ",
                  type, "\n");
}

// `labels`: "" or `method="..."` (without braces).
template <size_t N, typename H>
void AppendHistogram(std::string& out, absl::string_view name,
                     absl::string_view labels,
                     const std::array<double, N>& bounds, const H& h) {
  const std::string sep = labels.empty() ? "" : ",";
  int64_t cumulative = 0;
  for (size_t i = 0; i <= N; ++i) {
    cumulative += h.buckets[i].load(std::memory_order_relaxed);
    absl::StrAppend(&out, name, "_bucket{", labels, sep, "le=\"",
                    i < N ? Number(bounds[i]) : "+Inf", "\"} ", cumulative,
                    "\n");
  }
  const std::string braces =
      labels.empty() ? "" : absl::StrCat("{", labels, "}");
  absl::StrAppend(&out, name, "_sum", braces, " ",
                  Number(h.sum.load(std::memory_order_relaxed)), "\n", name,
                  "_count", braces, " ", cumulative, "\n");
}

}  // namespace

template <size_t N>
void Metrics::Histogram<N>::Observe(const std::array<double, N>& bounds,
                                    double v) {
  const size_t i = static_cast<size_t>(
      std::lower_bound(bounds.begin(), bounds.end(), v) - bounds.begin());
  buckets[i].fetch_add(1, std::memory_order_relaxed);
  count.fetch_add(1, std::memory_order_relaxed);
  sum.fetch_add(v, std::memory_order_relaxed);
}

int Metrics::AddMethod(absl::string_view full_name) {
  methods_.emplace_back().name = std::string(full_name);
  return static_cast<int>(methods_.size()) - 1;
}

void Metrics::RecordCall(int method, absl::StatusCode code,
                         absl::Duration latency) {
  MethodStats& m = methods_[static_cast<size_t>(method)];
  const int c = static_cast<int>(code);
  m.calls[c >= 0 && c < kCodes ? c
                               : static_cast<int>(absl::StatusCode::kUnknown)]
      .fetch_add(1, std::memory_order_relaxed);
  m.latency.Observe(kSeconds, absl::ToDoubleSeconds(latency));
}

void Metrics::RecordFault(int method, const absl::Status& status) const {
  switch (status.code()) {
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kUnknown:
      if (fault_hook_) {
        fault_hook_(methods_[static_cast<size_t>(method)].name, status);
      }
      break;
    default:
      break;
  }
}

void Metrics::RecordBatch(int jobs, absl::Duration duration) {
  batch_jobs_.Observe(kJobs, jobs);
  batch_seconds_.Observe(kSeconds, absl::ToDoubleSeconds(duration));
}

void Metrics::SetStorageState(const StorageState& state) {
  up_ = state.up;
  if (!state.up) return;  // keep the last values seen
  tree_size_ = state.audit_tree_size;
  ending_soon_ = state.grants_ending_soon;
  if (state.checkpoint_time != absl::InfiniteFuture()) {
    checkpoint_unix_micros_ = absl::ToUnixMicros(state.checkpoint_time);
    has_checkpoint_ = true;
  }
}

std::string Metrics::Render(absl::Time now) const {
  std::string out;
  Header(out, "samplan_calls_total", "counter",
         "Calls that reached a method (after authentication), by method and "
         "status code.");
  for (const MethodStats& m : methods_) {
    for (int c = 0; c < kCodes; ++c) {
      const int64_t n = m.calls[c].load(std::memory_order_relaxed);
      if (n == 0) continue;
      absl::StrAppend(
          &out, "samplan_calls_total{method=\"", m.name, "\",code=\"",
          absl::StatusCodeToString(static_cast<absl::StatusCode>(c)), "\"} ", n,
          "\n");
    }
  }
  Header(out, "samplan_call_duration_seconds", "histogram",
         "Time from a method's start to its answer (after the durable commit "
         "of its audit record), by method.");
  for (const MethodStats& m : methods_) {
    if (m.latency.count.load(std::memory_order_relaxed) == 0) continue;
    AppendHistogram(out, "samplan_call_duration_seconds",
                    absl::StrCat("method=\"", m.name, "\""), kSeconds,
                    m.latency);
  }
  Header(out, "samplan_commit_batch_jobs", "histogram",
         "Jobs committed together in one storage transaction.");
  AppendHistogram(out, "samplan_commit_batch_jobs", "", kJobs, batch_jobs_);
  Header(out, "samplan_commit_batch_duration_seconds", "histogram",
         "Time one commit batch took in storage, commit included.");
  AppendHistogram(out, "samplan_commit_batch_duration_seconds", "", kSeconds,
                  batch_seconds_);
  Header(out, "samplan_storage_up", "gauge",
         "1 while the database answers (health SERVING), else 0.");
  absl::StrAppend(&out, "samplan_storage_up ", up_.load() ? 1 : 0, "\n");
  Header(out, "samplan_audit_tree_size", "gauge",
         "Records in the audit log, as last read from storage.");
  absl::StrAppend(&out, "samplan_audit_tree_size ", tree_size_.load(), "\n");
  if (has_checkpoint_.load()) {
    Header(out, "samplan_audit_checkpoint_age_seconds", "gauge",
           "Seconds since the newest signed checkpoint.");
    const absl::Duration age =
        now - absl::FromUnixMicros(checkpoint_unix_micros_.load());
    absl::StrAppend(&out, "samplan_audit_checkpoint_age_seconds ",
                    Number(absl::ToDoubleSeconds(age)), "\n");
  }
  Header(out, "samplan_grants_ending_soon", "gauge",
         "Grants in force whose validity ends within 30 days (or has ended "
         "and the sweeper has not yet recorded it).");
  absl::StrAppend(&out, "samplan_grants_ending_soon ", ending_soon_.load(),
                  "\n");
  return out;
}

}  // namespace samplan::app
