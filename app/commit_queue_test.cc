#include "app/commit_queue.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/notification.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "samplan/v1/consent.pb.h"
#include "storage/sqlite_store.h"

namespace samplan::app {
namespace {

v1::Grant Grant(const std::string& id) {
  v1::Grant g;
  g.set_name("grants/" + id);
  g.set_subject("201605102383");
  return g;
}

class CommitQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = storage::OpenSqliteStore(storage::SqliteOptions{});
    ASSERT_THAT(store, IsOk());
    store_ = *std::move(store);
  }
  std::unique_ptr<storage::Store> store_;
};

// Holds the writer inside a job until `release`, so that the jobs
// submitted next queue up behind it; returns once the writer is held.
void HoldWriter(CommitQueue& queue, absl::Notification& release) {
  absl::Notification started;
  queue.Submit(
      [&](storage::Transaction&) {
        started.Notify();
        release.WaitForNotification();
        return absl::OkStatus();
      },
      [](absl::Status) {});
  started.WaitForNotification();
}

TEST_F(CommitQueueTest, RunsJobsAndReportsEachStatus) {
  CommitQueue queue(*store_);
  EXPECT_THAT(queue.Run([](storage::Transaction& tx) {
    return tx.grants().Insert(Grant("g1"));
  }),
              IsOk());
  EXPECT_THAT(queue.Run([](storage::Transaction& tx) {
    return tx.grants().Insert(Grant("g1"));
  }),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(queue.Run([](storage::Transaction& tx) {
    return tx.grants().Get("g1").status();
  }),
              IsOk());
}

TEST_F(CommitQueueTest, BatchesWhatIsQueuedAndKeepsOrder) {
  auto queue = std::make_unique<CommitQueue>(*store_, 100);
  absl::Notification release;
  HoldWriter(*queue, release);
  std::vector<int> order;
  std::atomic<int> ok{0};
  for (int i = 0; i < 50; ++i) {
    queue->Submit(
        [i](storage::Transaction& tx) {
          return tx.grants().Insert(Grant("g" + std::to_string(i)));
        },
        [&, i](absl::Status s) {
          order.push_back(i);  // done callbacks run on one thread, in order
          if (s.ok()) ++ok;
        });
  }
  release.Notify();
  queue->Shutdown();
  EXPECT_EQ(ok.load(), 50);
  ASSERT_EQ(order.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(order[i], i);
  // The held job was one batch; the 50 queued behind it fit in one more.
  EXPECT_EQ(queue->batches(), 2);
  EXPECT_EQ(queue->jobs(), 51);
}

// A store that allows `max` functions per batch and records what it got.
class SmallBatchStore : public storage::Store {
 public:
  SmallBatchStore(storage::Store& inner, int max) : inner_(inner), max_(max) {}
  absl::Status Read(
      absl::FunctionRef<absl::Status(storage::Transaction&)> fn) override {
    return inner_.Read(fn);
  }
  absl::Status Write(
      absl::FunctionRef<absl::Status(storage::Transaction&)> fn) override {
    return inner_.Write(fn);
  }
  std::vector<absl::Status> WriteBatch(
      absl::Span<const absl::FunctionRef<absl::Status(storage::Transaction&)>>
          fns) override {
    largest_ = std::max(largest_, static_cast<int>(fns.size()));
    return inner_.WriteBatch(fns);
  }
  int MaxBatch() const override { return max_; }
  int largest() const { return largest_; }  // read after the queue stops

 private:
  storage::Store& inner_;
  const int max_;
  int largest_ = 0;  // the writer thread's
};

TEST_F(CommitQueueTest, ABatchHoldsNoMoreThanTheStoreAllowsTailIncluded) {
  SmallBatchStore store(*store_, 5);
  auto queue = std::make_unique<CommitQueue>(store);
  queue->SetBatchTail([](storage::Transaction&) { return absl::OkStatus(); });
  absl::Notification release;
  HoldWriter(*queue, release);
  std::atomic<int> ok{0};
  for (int i = 0; i < 20; ++i) {
    queue->Submit(
        [i](storage::Transaction& tx) {
          return tx.grants().Insert(Grant("g" + std::to_string(i)));
        },
        [&](absl::Status s) {
          if (s.ok()) ++ok;
        });
  }
  release.Notify();
  queue->Shutdown();
  EXPECT_EQ(ok.load(), 20);
  EXPECT_EQ(store.largest(), 5);   // 4 jobs and the tail
  EXPECT_EQ(queue->batches(), 6);  // the held job, then 20 in fours
}

TEST_F(CommitQueueTest, AfterShutdownJobsAreRefused) {
  CommitQueue queue(*store_);
  queue.Shutdown();
  absl::Status got;
  queue.Submit([](storage::Transaction&) { return absl::OkStatus(); },
               [&](absl::Status s) { got = s; });
  EXPECT_THAT(got, StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace samplan::app
