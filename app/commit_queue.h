// The audit writer: one thread that runs every state-changing or audited
// request's storage work, many requests per durable transaction (group
// commit), and only then releases each request's reply.
//
// A request hands its work to Submit() and returns; the writer thread takes
// every job queued (up to max_batch), runs them in one Store::WriteBatch
// (each job in its own savepoint), commits with fsync, and then calls each
// job's `done` with its status. So no reply leaves before its audit record
// is on disk, and one fsync serves a whole batch.
//
// The `done` callbacks of a committed batch, and the destruction of its
// jobs, run on a second thread, the completer, in submission order: the
// writer goes on to the next batch while the replies of the last one are
// sent.
//
// Thread-safe. `done` runs on the completer thread: it must not call
// Submit() and wait for the result, nor Shutdown() or destroy the queue.

#ifndef SAMPLAN_APP_COMMIT_QUEUE_H_
#define SAMPLAN_APP_COMMIT_QUEUE_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "storage/store.h"

namespace samplan::app {

class Metrics;

class CommitQueue {
 public:
  using Job = std::function<absl::Status(storage::Transaction&)>;
  using Done = std::function<void(absl::Status)>;

  // Starts the writer thread. `store` must outlive the queue. A batch holds
  // up to `max_batch` jobs and the tail; 0: what the store allows, less one
  // for the tail.
  CommitQueue(storage::Store& store, int max_batch = 0);
  // Runs what is queued, then stops the thread.
  ~CommitQueue();

  CommitQueue(const CommitQueue&) = delete;
  CommitQueue& operator=(const CommitQueue&) = delete;

  // Queues `job`. `done` receives the job's status once the batch holding it
  // has committed (or UNAVAILABLE when the commit failed); after Shutdown()
  // it receives UNAVAILABLE at once.
  void Submit(Job job, Done done);

  // Runs `job` and waits for the result. For callers that may block (tests,
  // start-up, the command-line tools); never from a `done` callback.
  absl::Status Run(Job job);

  // Stops accepting jobs and waits until the queued ones are done.
  void Shutdown();

  // Runs `tail` as the last job of every batch, in its own savepoint, after
  // the batch's jobs (for example to sign a checkpoint of the audit log once
  // enough events were appended). A failing tail is logged by nobody and
  // rolls back only itself. Call before the first Submit().
  void SetBatchTail(Job tail);

  // Reports each batch's size (jobs, without the tail) and time in storage
  // to `metrics` (not owned; null: none). Call before the first Submit().
  void SetMetrics(Metrics* metrics);

  // Counters, for tests and benchmarks.
  int64_t batches() const;
  int64_t jobs() const;

 private:
  struct Item {
    Job job;
    Done done;
  };
  struct Completion {
    std::vector<Item> items;
    std::vector<absl::Status> results;
  };
  void Loop();
  void Complete();

  storage::Store& store_;
  const int max_batch_;

  mutable absl::Mutex mu_;
  std::deque<Item> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  Job tail_ ABSL_GUARDED_BY(mu_);
  Metrics* metrics_ ABSL_GUARDED_BY(mu_) = nullptr;
  absl::Mutex join_mu_;
  int64_t batches_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t jobs_ ABSL_GUARDED_BY(mu_) = 0;

  // Committed batches waiting for the completer.
  absl::Mutex done_mu_;
  std::deque<Completion> completions_ ABSL_GUARDED_BY(done_mu_);
  bool writer_stopped_ ABSL_GUARDED_BY(done_mu_) = false;

  // Last: they start after the members above exist.
  std::thread completer_;
  std::thread thread_;
};

}  // namespace samplan::app

#endif  // SAMPLAN_APP_COMMIT_QUEUE_H_
