#include "app/metrics.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace samplan::app {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(MetricsTest, CallsAreCountedByMethodAndCodeWithCumulativeBuckets) {
  Metrics m;
  const int get = m.AddMethod("samplan.v1.PlanService.GetPlan");
  m.AddMethod("samplan.v1.PlanService.CreatePlan");
  m.RecordCall(get, absl::StatusCode::kOk, absl::Microseconds(300));
  m.RecordCall(get, absl::StatusCode::kOk, absl::Milliseconds(3));
  m.RecordCall(get, absl::StatusCode::kNotFound, absl::Seconds(20));
  const std::string text = m.Render(absl::UnixEpoch());
  EXPECT_THAT(text, HasSubstr("# TYPE samplan_calls_total counter\n"));
  EXPECT_THAT(text, HasSubstr("samplan_calls_total{method=\"samplan.v1."
                              "PlanService.GetPlan\",code=\"OK\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("samplan_calls_total{method=\"samplan.v1."
                              "PlanService.GetPlan\",code=\"NOT_FOUND\"} 1\n"));
  // A method never called has no series.
  EXPECT_THAT(text, Not(HasSubstr("CreatePlan")));
  // Buckets count everything at or below their bound.
  const std::string get_label = "method=\"samplan.v1.PlanService.GetPlan\"";
  EXPECT_THAT(text, HasSubstr("samplan_call_duration_seconds_bucket{" +
                              get_label + ",le=\"0.0005\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("samplan_call_duration_seconds_bucket{" +
                              get_label + ",le=\"0.005\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("samplan_call_duration_seconds_bucket{" +
                              get_label + ",le=\"10\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("samplan_call_duration_seconds_bucket{" +
                              get_label + ",le=\"+Inf\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("samplan_call_duration_seconds_count{" +
                              get_label + "} 3\n"));
  EXPECT_THAT(text, HasSubstr("samplan_call_duration_seconds_sum{" + get_label +
                              "} 20.0033\n"));
}

TEST(MetricsTest, BatchesAndStorageGauges) {
  Metrics m;
  m.RecordBatch(1, absl::Milliseconds(2));
  m.RecordBatch(40, absl::Milliseconds(30));
  Metrics::StorageState state;
  state.up = true;
  state.audit_tree_size = 1234;
  state.checkpoint_time = absl::FromUnixSeconds(1000);
  state.grants_ending_soon = 7;
  m.SetStorageState(state);
  std::string text = m.Render(absl::FromUnixSeconds(1090));
  EXPECT_THAT(text,
              HasSubstr("samplan_commit_batch_jobs_bucket{le=\"1\"} 1\n"));
  EXPECT_THAT(text,
              HasSubstr("samplan_commit_batch_jobs_bucket{le=\"32\"} 1\n"));
  EXPECT_THAT(text,
              HasSubstr("samplan_commit_batch_jobs_bucket{le=\"64\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("samplan_commit_batch_jobs_sum 41\n"));
  EXPECT_THAT(text,
              HasSubstr("samplan_commit_batch_duration_seconds_count 2\n"));
  EXPECT_THAT(text, HasSubstr("samplan_storage_up 1\n"));
  EXPECT_THAT(text, HasSubstr("samplan_audit_tree_size 1234\n"));
  EXPECT_THAT(text, HasSubstr("samplan_audit_checkpoint_age_seconds 90\n"));
  EXPECT_THAT(text, HasSubstr("samplan_grants_ending_soon 7\n"));
  // Storage gone: down, and the last values seen are kept.
  m.SetStorageState(Metrics::StorageState{});
  text = m.Render(absl::FromUnixSeconds(1090));
  EXPECT_THAT(text, HasSubstr("samplan_storage_up 0\n"));
  EXPECT_THAT(text, HasSubstr("samplan_audit_tree_size 1234\n"));
}

TEST(MetricsTest, NoCheckpointYetMeansNoAge) {
  Metrics m;
  Metrics::StorageState state;
  state.up = true;
  m.SetStorageState(state);
  EXPECT_THAT(m.Render(absl::UnixEpoch()),
              Not(HasSubstr("samplan_audit_checkpoint_age_seconds")));
}

}  // namespace
}  // namespace samplan::app
