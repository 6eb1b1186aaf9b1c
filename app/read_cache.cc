#include "app/read_cache.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/resource_names.h"
#include "common/status_macros.h"

namespace samplan::app {
namespace {

// What a value costs besides its payload: the key, list and map nodes.
constexpr size_t kOverhead = 128;

size_t StringsBytes(const std::vector<std::string>& v) {
  size_t n = 0;
  for (const std::string& s : v) n += sizeof(s) + s.capacity();
  return n;
}

bool TimeBefore(const google::protobuf::Timestamp& a,
                const google::protobuf::Timestamp& b) {
  if (a.seconds() != b.seconds()) return a.seconds() < b.seconds();
  return a.nanos() < b.nanos();
}

}  // namespace

absl::StatusOr<std::shared_ptr<const PlanContent>> ReadPlanContent(
    ReadCache* cache, storage::Transaction& tx, absl::string_view plan_id,
    int64_t version, int64_t shown, int64_t effective) {
  const bool keep = cache != nullptr && tx.committed();
  if (keep) {
    if (auto found = cache->FindPlan(plan_id, version, shown)) return found;
  }
  auto content = std::make_shared<PlanContent>();
  ASSIGN_OR_RETURN(content->entries, tx.plans().ListEntries(plan_id, shown));
  std::stable_sort(content->entries.begin(), content->entries.end(),
                   [](const v1::Entry& a, const v1::Entry& b) {
                     if (TimeBefore(a.create_time(), b.create_time())) {
                       return true;
                     }
                     if (TimeBefore(b.create_time(), a.create_time())) {
                       return false;
                     }
                     return a.name() < b.name();
                   });
  // An agency's id and sector never change once registered.
  AgencyCache agencies(tx);
  content->owners.reserve(content->entries.size());
  for (const v1::Entry& entry : content->entries) {
    absl::StatusOr<consent::Agency> owner =
        agencies.Get(BareId(entry.owner_agency()));
    if (!owner.ok() && !absl::IsNotFound(owner.status())) {
      return owner.status();
    }
    content->owners.push_back(owner.ok() ? std::optional(*std::move(owner))
                                         : std::nullopt);
  }
  ASSIGN_OR_RETURN(content->participants,
                   tx.plans().ListParticipants(plan_id, true));
  ASSIGN_OR_RETURN(std::vector<v1::Approval> approvals,
                   tx.plans().ListApprovals(plan_id));
  for (v1::Approval& a : approvals) {
    if (a.revision() == effective) content->approvals.push_back(std::move(a));
  }
  if (keep) cache->PutPlan(plan_id, version, shown, content);
  return content;
}

absl::StatusOr<std::shared_ptr<const SubjectFacts>> ReadSubjectFacts(
    ReadCache* cache, storage::Transaction& tx, absl::string_view subject,
    int64_t version) {
  const bool keep = cache != nullptr && tx.committed();
  if (keep) {
    if (auto found = cache->FindSubject(subject, version)) return found;
  }
  ASSIGN_OR_RETURN(SubjectFacts facts, LoadSubjectFacts(tx, subject));
  auto shared = std::make_shared<const SubjectFacts>(std::move(facts));
  if (keep) cache->PutSubject(subject, version, shared);
  return shared;
}

size_t ApproximateBytes(const PlanContent& content) {
  size_t n = sizeof(content) + kOverhead;
  // Parsed messages take about twice their wire size.
  for (const v1::Entry& e : content.entries) n += 2 * e.ByteSizeLong() + 64;
  for (const v1::Participant& p : content.participants) {
    n += 2 * p.ByteSizeLong() + 64;
  }
  for (const v1::Approval& a : content.approvals) {
    n += 2 * a.ByteSizeLong() + 64;
  }
  n += content.owners.size() * (sizeof(consent::Agency) + 32);
  return n;
}

size_t ApproximateBytes(const SubjectFacts& facts) {
  size_t n = sizeof(facts) + kOverhead;
  for (const consent::Grant& g : facts.grants) {
    n += sizeof(g) + g.id.capacity() + g.subject.capacity() +
         g.grantor.capacity() + g.scope.plan.capacity() +
         StringsBytes(g.scope.disclosing_agencies) +
         StringsBytes(g.scope.receiving_agencies) +
         g.scope.disclosing_sectors.capacity() +
         g.scope.receiving_sectors.capacity() + g.scope.categories.capacity();
  }
  for (const consent::CustodyFact& c : facts.custody) {
    n += sizeof(c) + c.subject.capacity() + c.guardian.capacity();
  }
  for (const consent::Representation& r : facts.representations) {
    n += sizeof(r) + r.subject.capacity() + r.representative.capacity();
  }
  return n;
}

std::shared_ptr<const void> ReadCache::Lru::Find(const std::string& key,
                                                 int64_t version) {
  auto it = index_.find(key);
  if (it == index_.end() || it->second->version != version) return nullptr;
  order_.splice(order_.begin(), order_, it->second);
  return it->second->data;
}

void ReadCache::Lru::Put(Value value) {
  if (value.bytes > max_bytes_) return;  // would evict everything else
  auto it = index_.find(value.key);
  if (it != index_.end()) {
    // Versions only move forward: keep the newer of the two.
    if (it->second->version > value.version) return;
    bytes_ -= it->second->bytes;
    order_.erase(it->second);
    index_.erase(it);
  }
  bytes_ += value.bytes;
  order_.push_front(std::move(value));
  index_.emplace(order_.front().key, order_.begin());
  while (bytes_ > max_bytes_) {
    Value& last = order_.back();
    bytes_ -= last.bytes;
    index_.erase(last.key);
    order_.pop_back();
  }
}

ReadCache::ReadCache(size_t max_bytes)
    : plans_(max_bytes / 2), subjects_(max_bytes - max_bytes / 2) {}

ReadCache::~ReadCache() = default;

std::shared_ptr<const PlanContent> ReadCache::FindPlan(
    absl::string_view plan_id, int64_t version, int64_t shown) {
  const std::string key = absl::StrCat(plan_id, "@", shown);
  absl::MutexLock lock(&mu_);
  auto found = plans_.Find(key, version);
  ++(found != nullptr ? hits_ : misses_);
  return std::static_pointer_cast<const PlanContent>(found);
}

void ReadCache::PutPlan(absl::string_view plan_id, int64_t version,
                        int64_t shown,
                        std::shared_ptr<const PlanContent> content) {
  Value v;
  v.key = absl::StrCat(plan_id, "@", shown);
  v.version = version;
  v.bytes = ApproximateBytes(*content);
  v.data = std::move(content);
  absl::MutexLock lock(&mu_);
  plans_.Put(std::move(v));
}

std::shared_ptr<const SubjectFacts> ReadCache::FindSubject(
    absl::string_view subject, int64_t version) {
  const std::string key(subject);
  absl::MutexLock lock(&mu_);
  auto found = subjects_.Find(key, version);
  ++(found != nullptr ? hits_ : misses_);
  return std::static_pointer_cast<const SubjectFacts>(found);
}

void ReadCache::PutSubject(absl::string_view subject, int64_t version,
                           std::shared_ptr<const SubjectFacts> facts) {
  Value v;
  v.key = std::string(subject);
  v.version = version;
  v.bytes = ApproximateBytes(*facts);
  v.data = std::move(facts);
  absl::MutexLock lock(&mu_);
  subjects_.Put(std::move(v));
}

ReadCache::Stats ReadCache::stats() const {
  absl::MutexLock lock(&mu_);
  Stats s;
  s.hits = hits_;
  s.misses = misses_;
  s.bytes = plans_.bytes() + subjects_.bytes();
  s.values = plans_.size() + subjects_.size();
  return s;
}

}  // namespace samplan::app
