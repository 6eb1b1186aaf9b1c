#include "app/commit_queue.h"

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
  // Hold the writer inside a job so the next ones queue up behind it.
  absl::Notification release;
  absl::Notification started;
  queue->Submit(
      [&](storage::Transaction&) {
        started.Notify();
        release.WaitForNotification();
        return absl::OkStatus();
      },
      [](absl::Status) {});
  started.WaitForNotification();
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
