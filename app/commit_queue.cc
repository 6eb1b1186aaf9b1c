#include "app/commit_queue.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "app/metrics.h"
#include "common/errors.h"

namespace samplan::app {

CommitQueue::CommitQueue(storage::Store& store, int max_batch)
    : store_(store),
      max_batch_(std::max(1, max_batch > 0 ? max_batch : store.MaxBatch() - 1)),
      completer_([this] { Complete(); }),
      thread_([this] { Loop(); }) {}

CommitQueue::~CommitQueue() { Shutdown(); }

void CommitQueue::Submit(Job job, Done done) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      queue_.push_back(Item{std::move(job), std::move(done)});
      return;
    }
  }
  done(WithReason(absl::UnavailableError("the server is shutting down"),
                  "STORAGE_UNAVAILABLE"));
}

absl::Status CommitQueue::Run(Job job) {
  absl::Notification finished;
  absl::Status result;
  Submit(std::move(job), [&](absl::Status s) {
    result = std::move(s);
    finished.Notify();
  });
  finished.WaitForNotification();
  return result;
}

void CommitQueue::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  absl::MutexLock lock(&join_mu_);  // two callers must not both join
  if (thread_.joinable()) thread_.join();
  {
    absl::MutexLock done_lock(&done_mu_);
    writer_stopped_ = true;
  }
  if (completer_.joinable()) completer_.join();
}

void CommitQueue::SetBatchTail(Job tail) {
  absl::MutexLock lock(&mu_);
  tail_ = std::move(tail);
}

void CommitQueue::SetMetrics(Metrics* metrics) {
  absl::MutexLock lock(&mu_);
  metrics_ = metrics;
}

int64_t CommitQueue::batches() const {
  absl::MutexLock lock(&mu_);
  return batches_;
}

int64_t CommitQueue::jobs() const {
  absl::MutexLock lock(&mu_);
  return jobs_;
}

void CommitQueue::Loop() {
  std::vector<Item> batch;
  std::vector<absl::FunctionRef<absl::Status(storage::Transaction&)>> fns;
  Job tail;
  Metrics* metrics = nullptr;
  for (;;) {
    batch.clear();
    fns.clear();
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return !queue_.empty() || stopping_;
      };
      mu_.Await(absl::Condition(&ready));
      if (queue_.empty()) return;  // stopping, and nothing left
      while (!queue_.empty() && static_cast<int>(batch.size()) < max_batch_) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      ++batches_;
      jobs_ += static_cast<int64_t>(batch.size());
      tail = tail_;
      metrics = metrics_;
    }
    for (Item& item : batch) fns.emplace_back(item.job);
    if (tail) fns.emplace_back(tail);
    Completion completion;
    const absl::Time start = absl::Now();
    completion.results = store_.WriteBatch(fns);
    if (metrics != nullptr) {
      metrics->RecordBatch(static_cast<int>(batch.size()), absl::Now() - start);
    }
    fns.clear();
    completion.items = std::move(batch);
    batch = std::vector<Item>();
    absl::MutexLock lock(&done_mu_);
    completions_.push_back(std::move(completion));
  }
}

void CommitQueue::Complete() {
  for (;;) {
    Completion completion;
    {
      absl::MutexLock lock(&done_mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(done_mu_) {
        return !completions_.empty() || writer_stopped_;
      };
      done_mu_.Await(absl::Condition(&ready));
      if (completions_.empty()) return;  // the writer stopped; all done
      completion = std::move(completions_.front());
      completions_.pop_front();
    }
    for (size_t i = 0; i < completion.items.size(); ++i) {
      completion.items[i].done(std::move(completion.results[i]));
    }
  }  // the batch's jobs are destroyed here, off the writer
}

}  // namespace samplan::app
