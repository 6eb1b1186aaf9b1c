// What reads parse again and again, kept between calls: a plan's entries,
// participants and approvals as one revision shows them, and a subject's
// consent data in the engine's types. Every value is keyed by the version
// its rows had (PlanRepository::Version, GrantStore::ConsentVersion), which
// every change to those rows moves in the same transaction: a read that
// finds the version it read in its snapshot here gets exactly what it would
// have parsed. Versions only move forward, so a stale value is never found,
// only replaced.
//
// Fill it only from committed data (Transaction::committed()): inside the
// writer a version can be moved by a change that is then rolled back, and
// the same version reached again with other rows.
//
// Thread-safe. Bounded: the least recently used values go first.

#ifndef SAMPLAN_APP_READ_CACHE_H_
#define SAMPLAN_APP_READ_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "app/consent_bridge.h"
#include "consent/engine.h"
#include "samplan/v1/plan.pb.h"
#include "storage/store.h"

namespace samplan::app {

// A plan's contents as one revision shows them.
struct PlanContent {
  // The entries of the shown revision, in display order (creation time,
  // then name), each with its owner (nullopt: the owner is not registered,
  // which denies).
  std::vector<v1::Entry> entries;
  std::vector<std::optional<consent::Agency>> owners;
  // The participants (those removed too, as GetPlan shows them), and the
  // approvals of the effective revision.
  std::vector<v1::Participant> participants;
  std::vector<v1::Approval> approvals;
};

class ReadCache {
 public:
  // At most `max_bytes` of values, about evenly for plans and subjects.
  explicit ReadCache(size_t max_bytes = size_t{64} << 20);
  ~ReadCache();
  ReadCache(const ReadCache&) = delete;
  ReadCache& operator=(const ReadCache&) = delete;

  // Plan `plan_id` at `version`, as revision `shown` shows it; null when
  // not cached.
  std::shared_ptr<const PlanContent> FindPlan(absl::string_view plan_id,
                                              int64_t version, int64_t shown);
  void PutPlan(absl::string_view plan_id, int64_t version, int64_t shown,
               std::shared_ptr<const PlanContent> content);

  // The consent data of `subject` at `version`; null when not cached.
  std::shared_ptr<const SubjectFacts> FindSubject(absl::string_view subject,
                                                  int64_t version);
  void PutSubject(absl::string_view subject, int64_t version,
                  std::shared_ptr<const SubjectFacts> facts);

  struct Stats {
    int64_t hits = 0;
    int64_t misses = 0;
    size_t bytes = 0;
    size_t values = 0;
  };
  Stats stats() const;

 private:
  struct Value {
    std::string key;
    int64_t version = 0;
    size_t bytes = 0;
    std::shared_ptr<const void> data;
  };
  // A least-recently-used map of keys to versioned values.
  class Lru {
   public:
    explicit Lru(size_t max_bytes) : max_bytes_(max_bytes) {}
    std::shared_ptr<const void> Find(const std::string& key, int64_t version);
    void Put(Value value);
    size_t bytes() const { return bytes_; }
    size_t size() const { return index_.size(); }

   private:
    const size_t max_bytes_;
    size_t bytes_ = 0;
    std::list<Value> order_;  // most recently used first
    absl::flat_hash_map<std::string, std::list<Value>::iterator> index_;
  };

  mutable absl::Mutex mu_;
  Lru plans_ ABSL_GUARDED_BY(mu_);
  Lru subjects_ ABSL_GUARDED_BY(mu_);
  int64_t hits_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t misses_ ABSL_GUARDED_BY(mu_) = 0;
};

// The contents of plan `plan_id`, which is at `version` with effective
// revision `effective`, as revision `shown` shows them: from `cache` when it
// holds them (`cache` may be null), else read through `tx`, and kept in
// `cache` when `tx` reads committed data.
absl::StatusOr<std::shared_ptr<const PlanContent>> ReadPlanContent(
    ReadCache* cache, storage::Transaction& tx, absl::string_view plan_id,
    int64_t version, int64_t shown, int64_t effective);

// The consent data of `subject`, whose GrantStore::ConsentVersion in `tx`
// is `version`: likewise.
absl::StatusOr<std::shared_ptr<const SubjectFacts>> ReadSubjectFacts(
    ReadCache* cache, storage::Transaction& tx, absl::string_view subject,
    int64_t version);

// About how much memory `content` or `facts` holds.
size_t ApproximateBytes(const PlanContent& content);
size_t ApproximateBytes(const SubjectFacts& facts);

}  // namespace samplan::app

#endif  // SAMPLAN_APP_READ_CACHE_H_
