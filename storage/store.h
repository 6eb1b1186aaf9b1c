// The storage interfaces: the plan repository, grants, custody facts and
// representations, the agency registry, the audit log and the request log
// (idempotency), reached through one Transaction per request.
//
// Resources are the API messages themselves (samplan.v1); each backend keeps
// the columns it needs to find them. Arguments name resources by bare id
// ("school-1", "p7f3..."), never by resource name ("agencies/school-1").
// Append-only data stays append-only: grants, grant endings, plan revisions,
// entry versions, approvals, custody facts and audit events are inserted, never
// updated or deleted.
//
// Errors: NOT_FOUND for a missing resource, ALREADY_EXISTS for a duplicate
// id, FAILED_PRECONDITION for a change the stored state forbids, ABORTED for
// a lost race (retry the whole request), UNAVAILABLE when the database could
// not be reached or written (retry later), INTERNAL for corrupt data. No
// backend exception crosses this interface.

#ifndef SAMPLAN_STORAGE_STORE_H_
#define SAMPLAN_STORAGE_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "audit/merkle.h"

namespace samplan::v1 {
class Agency;
class Approval;
class AuditEvent;
class CustodyFact;
class Entry;
class Grant;
class Participant;
class Plan;
class Representation;
}  // namespace samplan::v1

namespace samplan::storage {

// Agencies that may call samplan, by id ("school-1", not "agencies/...").
class AgencyRegistry {
 public:
  virtual ~AgencyRegistry() = default;
  // ALREADY_EXISTS if the id is taken.
  virtual absl::Status Create(const v1::Agency& agency) = 0;
  // NOT_FOUND if unknown.
  virtual absl::StatusOr<v1::Agency> Get(absl::string_view id) = 0;
  // Replaces a stored agency (for example to disable it). NOT_FOUND if
  // unknown.
  virtual absl::Status Update(const v1::Agency& agency) = 0;
  // Agencies with id > `after`, in id order, at most `limit`.
  virtual absl::StatusOr<std::vector<v1::Agency>> List(absl::string_view after,
                                                       int limit) = 0;
};

// Plans, their revisions, entries, participants and approvals. Plan ids are
// the {plan} part of "plans/{plan}"; entry and participant ids likewise.
class PlanRepository {
 public:
  virtual ~PlanRepository() = default;

  // Stores a new plan: `plan` is its header (no entries) at revision 1.
  // ALREADY_EXISTS if the id is taken.
  virtual absl::Status Create(const v1::Plan& plan, absl::string_view actor,
                              absl::Time time) = 0;

  // The header as of `revision`, or the newest one when `revision` is 0.
  // The newest header also carries the current state, revision and
  // effective revision. NOT_FOUND if the plan or revision does not exist.
  virtual absl::StatusOr<v1::Plan> Get(absl::string_view plan_id,
                                       int64_t revision = 0) = 0;

  // Records a new revision whose header is `plan`. `plan.revision()` must be
  // the stored revision + 1 (ABORTED otherwise: someone else changed the plan
  // first); `change` says what changed, in words without personal data.
  // NOT_FOUND if the plan does not exist.
  virtual absl::Status AddRevision(const v1::Plan& plan,
                                   absl::string_view agency,
                                   absl::string_view actor,
                                   absl::string_view change,
                                   absl::Time time) = 0;

  // Stores a version of an entry written in revision `entry.revision()`,
  // which must exist (FAILED_PRECONDITION otherwise). A version with
  // `deleted` set removes the entry from later revisions.
  virtual absl::Status PutEntry(absl::string_view plan_id,
                                const v1::Entry& entry) = 0;

  // The entries as of `revision` (0: the newest): for each entry its latest
  // version at or before `revision`, deleted ones left out, in entry id
  // order.
  virtual absl::StatusOr<std::vector<v1::Entry>> ListEntries(
      absl::string_view plan_id, int64_t revision = 0) = 0;

  // One entry's latest version (deleted or not). NOT_FOUND if never written.
  virtual absl::StatusOr<v1::Entry> GetEntry(absl::string_view plan_id,
                                             absl::string_view entry_id) = 0;

  // ALREADY_EXISTS if the participant id is taken in this plan.
  virtual absl::Status AddParticipant(absl::string_view plan_id,
                                      const v1::Participant& participant) = 0;
  // Marks a participant removed at `time`. NOT_FOUND if unknown or already
  // removed.
  virtual absl::Status RemoveParticipant(absl::string_view plan_id,
                                         absl::string_view participant_id,
                                         absl::Time time) = 0;
  // Participants, removed ones only when asked, in id order.
  virtual absl::StatusOr<std::vector<v1::Participant>> ListParticipants(
      absl::string_view plan_id, bool include_removed) = 0;

  // True when `agency` is the plan's lead agency or a participant that has
  // not been removed. False for an unknown plan.
  virtual absl::StatusOr<bool> TakesPart(absl::string_view plan_id,
                                         absl::string_view agency) = 0;

  // A number that changes with every change to the plan, its participants,
  // entries or approvals; 0 for an unknown plan.
  virtual absl::StatusOr<int64_t> Version(absl::string_view plan_id) = 0;

  // What a read of a plan by `agency` needs, in one query: the newest
  // header (carrying the current state, revision and effective revision),
  // the header of the revision to show (the effective one when
  // `effective_view` and the plan was ever approved, else the newest),
  // whether the agency takes part (as TakesPart), and the plan's Version.
  // For an unknown plan, `newest` is null (and the rest empty).
  struct ReadView {
    std::unique_ptr<v1::Plan> newest;  // null: no such plan
    std::unique_ptr<v1::Plan> shown;   // == newest's revision: a copy
    int64_t shown_revision = 0;
    bool takes_part = false;
    int64_t version = 0;
  };
  virtual absl::StatusOr<ReadView> ReadForAgency(absl::string_view plan_id,
                                                 absl::string_view agency,
                                                 bool effective_view) = 0;

  // Records an approval of revision `approval.revision()` and makes that
  // revision effective if it is newer than the effective one.
  // FAILED_PRECONDITION if the revision does not exist.
  virtual absl::Status AddApproval(absl::string_view plan_id,
                                   const v1::Approval& approval) = 0;
  virtual absl::StatusOr<std::vector<v1::Approval>> ListApprovals(
      absl::string_view plan_id) = 0;

  // Newest headers of the plans `agency` may see, with id > `after`, in id
  // order, at most `limit`: those it takes part in (lead agency or a
  // participant not removed), leaving out DRAFT plans of other lead
  // agencies; only those about `subject` if not empty, and only those in
  // `state` (a v1::PlanState value) if not 0. The filters are applied before
  // the limit, so a short page means there are no more.
  virtual absl::StatusOr<std::vector<v1::Plan>> ListForAgency(
      absl::string_view agency, absl::string_view subject, int state,
      absl::string_view after, int limit) = 0;
};

// Filters for GrantStore::List. Empty fields do not filter.
struct GrantQuery {
  std::string subject;
  std::string plan;  // plan id: grants limited to that plan
  // Active grants whose valid_until falls in [ends_after, ends_before).
  std::optional<absl::Time> ends_after;
  std::optional<absl::Time> ends_before;
  // Only grants in this v1::GrantState (derived from the endings, as Get
  // reports it); 0 means any. Applied before `limit`.
  int state = 0;
  std::string after;  // grant id to continue after
  int limit = 100;
};

// How a grant ended. `state` is a v1::GrantState value.
struct GrantEnding {
  int state = 0;
  absl::Time time;
  std::string reason;      // why, in words; no personal data
  std::string agency;      // who recorded it: agency id
  std::string actor;       // and staff member
  std::string withdrawer;  // for WITHDRAWN: the person's identity number
  int evidence_kind = 0;   // v1::EvidenceKind
  std::string evidence_reference;
};

// Grants of consent and their endings. Stored grants never change: ending
// one adds an ending, and Get/List return the grant with state, end_time and
// end_reason filled in from it.
class GrantStore {
 public:
  virtual ~GrantStore() = default;
  // Stores a grant as given, id from its name ("grants/{grant}").
  // ALREADY_EXISTS if the id is taken.
  virtual absl::Status Insert(const v1::Grant& grant) = 0;
  // NOT_FOUND if unknown.
  virtual absl::StatusOr<v1::Grant> Get(absl::string_view grant_id) = 0;
  // Ends a grant. FAILED_PRECONDITION (reason GRANT_NOT_ACTIVE) unless the
  // grant is active (or, for VOID, not already void); INVALID_ARGUMENT if
  // `ending.state` is not WITHDRAWN, REVOKED, EXPIRED or VOID; NOT_FOUND if
  // unknown.
  virtual absl::Status End(absl::string_view grant_id,
                           const GrantEnding& ending) = 0;
  // All grants of a subject (any state), in id order: the engine's input.
  virtual absl::StatusOr<std::vector<v1::Grant>> ListForSubject(
      absl::string_view subject) = 0;
  // Grants matching `query`, in id order.
  virtual absl::StatusOr<std::vector<v1::Grant>> List(
      const GrantQuery& query) = 0;
  // Active grants whose valid_until <= `now` (for the expiry sweeper).
  virtual absl::StatusOr<std::vector<v1::Grant>> ListLapsed(absl::Time now,
                                                            int limit) = 0;
  // How many active grants have valid_until < `before` (for the operators'
  // "ending soon" gauge).
  virtual absl::StatusOr<int64_t> CountActiveEndingBefore(
      absl::Time before) = 0;

  // A number that changes whenever a grant, custody fact or representation
  // about `subject` is recorded or ends (in GrantStore or CustodyStore); 0
  // while none ever was.
  virtual absl::StatusOr<int64_t> ConsentVersion(absl::string_view subject) = 0;
};

// Who has custody of a child and who represents an adult.
class CustodyStore {
 public:
  virtual ~CustodyStore() = default;
  virtual absl::Status AddCustody(const v1::CustodyFact& fact) = 0;
  // Custody facts of `subject` in id order; an ended fact comes back with
  // valid_until moved to its end time.
  virtual absl::StatusOr<std::vector<v1::CustodyFact>> ListCustody(
      absl::string_view subject) = 0;
  // NOT_FOUND if unknown.
  virtual absl::StatusOr<v1::CustodyFact> GetCustody(absl::string_view id) = 0;
  // Ends a custody fact at `end_time` (custody facts are never edited).
  // FAILED_PRECONDITION if already ended; NOT_FOUND if unknown.
  virtual absl::Status EndCustody(absl::string_view id, absl::Time end_time,
                                  absl::string_view agency,
                                  absl::string_view actor, absl::Time now) = 0;
  virtual absl::Status AddRepresentation(const v1::Representation& r) = 0;
  virtual absl::StatusOr<std::vector<v1::Representation>> ListRepresentations(
      absl::string_view subject) = 0;
  // NOT_FOUND if unknown.
  virtual absl::StatusOr<v1::Representation> GetRepresentation(
      absl::string_view id) = 0;
  // Replaces a stored representation (to end it). NOT_FOUND if unknown.
  virtual absl::Status UpdateRepresentation(const v1::Representation& r) = 0;
};

// Filters for AuditLog::Query. Empty or unset fields do not filter.
struct AuditQuery {
  std::string subject;
  std::string agency;
  std::string actor;
  int action = 0;
  std::vector<int> any_action;  // when non-empty: one of these actions
  int decision = 0;
  std::string resource;  // this resource or any under it ("plans/a" matches
                         // "plans/a/entries/b")
  bool resource_exact = false;  // only `resource` itself: one index range
  std::optional<absl::Time> start_time;  // inclusive
  std::optional<absl::Time> end_time;    // exclusive
  int64_t after_index = -1;              // continue after this leaf index
  int64_t before_index = -1;  // when >= 0: only leaf indexes below it
  int limit = 100;
};

// A signed checkpoint as stored: the tree size, its root and the signed
// note (audit/note.h).
struct StoredCheckpoint {
  int64_t tree_size = 0;
  absl::Time time;
  audit::Hash root{};
  std::string signed_note;
};

// The append-only audit log and its Merkle tree (audit/merkle.h). Leaf
// indexes are 0, 1, 2, ... in append order; every append stores the leaf
// hash and the subtree hashes it completes in the same transaction, so the
// tree always matches the events.
class AuditLog {
 public:
  virtual ~AuditLog() = default;
  // Appends `event` (its leaf_index and leaf_hash are ignored; its time is
  // truncated to microseconds) and returns its index.
  // Taken by value: a caller done with its event moves it in and saves a
  // copy (a plan read's record carries every entry's decision).
  virtual absl::StatusOr<int64_t> Append(v1::AuditEvent event) = 0;
  // With leaf_index and leaf_hash set. NOT_FOUND if `index` >= Size().
  virtual absl::StatusOr<v1::AuditEvent> Get(int64_t index) = 0;
  virtual absl::StatusOr<int64_t> Size() = 0;
  // Events matching `query`, in index order, with leaf_index and leaf_hash
  // set (the leaf hash as stored in the tree at append time).
  virtual absl::StatusOr<std::vector<v1::AuditEvent>> Query(
      const AuditQuery& query) = 0;

  // The root hash of the first `size` leaves; OUT_OF_RANGE if `size` >
  // Size().
  virtual absl::StatusOr<audit::Hash> RootAt(int64_t size) = 0;
  // RFC 9162 proofs from the stored nodes; OUT_OF_RANGE if a size exceeds
  // Size(), INVALID_ARGUMENT for impossible arguments.
  virtual absl::StatusOr<std::vector<audit::Hash>> InclusionProof(
      int64_t index, int64_t size) = 0;
  virtual absl::StatusOr<std::vector<audit::Hash>> ConsistencyProof(
      int64_t first, int64_t second) = 0;

  // Stores a checkpoint. ALREADY_EXISTS if one of that size exists.
  virtual absl::Status AddCheckpoint(const StoredCheckpoint& checkpoint) = 0;
  // The checkpoint with the largest tree size, if any.
  virtual absl::StatusOr<std::optional<StoredCheckpoint>>
  LatestCheckpoint() = 0;
};

// The first answer to each write, by (agency, request id).
struct RequestRecord {
  std::string method;
  std::string fingerprint;  // a hash of the request, to detect id reuse
  std::string response;     // the serialized response
};
class RequestLog {
 public:
  virtual ~RequestLog() = default;
  // The record of an earlier request with this id, if any.
  virtual absl::StatusOr<std::optional<RequestRecord>> Find(
      absl::string_view agency, absl::string_view request_id) = 0;
  // ALREADY_EXISTS if the id was used before.
  virtual absl::Status Save(absl::string_view agency,
                            absl::string_view request_id,
                            const RequestRecord& record, absl::Time time) = 0;
};

// One request's unit of work. Every repository reached through it reads and
// writes inside the same database transaction. Not thread-safe; valid only
// inside Store::Read / Store::Write.
class Transaction {
 public:
  virtual ~Transaction() = default;
  virtual AgencyRegistry& agencies() = 0;
  virtual PlanRepository& plans() = 0;
  virtual GrantStore& grants() = 0;
  virtual CustodyStore& custody() = 0;
  virtual AuditLog& audit() = 0;
  virtual RequestLog& requests() = 0;
  // True when everything read through this transaction is committed data
  // (Store::Read); false in a transaction that may write, where a change
  // read may still be rolled back.
  virtual bool committed() const = 0;
};

// A database. Thread-safe: concurrent calls are serialized or isolated by
// the backend.
class Store {
 public:
  virtual ~Store() = default;

  // Runs `fn` in a transaction that may write. When `fn` returns OK the
  // transaction commits durably before Write returns; otherwise it rolls
  // back and Write returns `fn`'s status. A commit that fails rolls back
  // and returns UNAVAILABLE.
  virtual absl::Status Write(
      absl::FunctionRef<absl::Status(Transaction&)> fn) = 0;

  // Runs each of `fns` in turn inside ONE transaction (group commit), each
  // in its own savepoint: a function that returns an error has its own
  // changes rolled back and the others' kept. Returns one status per
  // function; when the commit itself fails every status is UNAVAILABLE.
  virtual std::vector<absl::Status> WriteBatch(
      absl::Span<const absl::FunctionRef<absl::Status(Transaction&)>> fns) = 0;

  // Runs `fn` in a read-only transaction (a consistent snapshot). Writes
  // inside it fail.
  virtual absl::Status Read(
      absl::FunctionRef<absl::Status(Transaction&)> fn) = 0;

  // Calls `on_change` (on a thread of the store's) whenever another
  // process may have changed the agency registry, so that a cache of it can
  // be dropped: a backend that several servers share tells each of them of
  // the others' changes, and of any moment it cannot be sure (a lost
  // connection). A backend only one server uses never calls it. Call once,
  // before serving; `on_change` must outlive the store.
  virtual void WatchAgencies(std::function<void()> on_change) {
    (void)on_change;
  }

  // Whether this process should run the periodic jobs that one server at a
  // time must run (the expiry sweep, time-based checkpoints). A backend
  // several servers share elects one of them, and another takes over once
  // it is gone; a backend only one server uses always says yes.
  virtual bool LeadsMaintenance() { return true; }

  // The most functions one WriteBatch should be given. PostgreSQL gives
  // each savepoint a subtransaction, and past 64 in one transaction every
  // session's snapshots get slower.
  virtual int MaxBatch() const { return 256; }
};

}  // namespace samplan::storage

#endif  // SAMPLAN_STORAGE_STORE_H_
