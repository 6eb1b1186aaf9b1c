// What the application services (PlanApp, ConsentApp, ...) share: their
// context, id generation, request validation helpers, page tokens, request
// fingerprints for idempotency, and audit event builders.
//
// Application services are transport-free: they take a Caller and a request
// message and report a status and a response; the gRPC layer (and later
// REST) only adapts.

#ifndef SAMPLAN_APP_APP_SUPPORT_H_
#define SAMPLAN_APP_APP_SUPPORT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "app/caller.h"
#include "app/commit_queue.h"
#include "common/clock.h"
#include "common/proto_time.h"
#include "consent/engine.h"
#include "storage/store.h"

namespace google::protobuf {
class Message;
class Timestamp;
}  // namespace google::protobuf
namespace google::type {
class Date;
}  // namespace google::type
namespace samplan::v1 {
class Agency;
class AuditEvent;
class Evidence;
class Plan;
}  // namespace samplan::v1

namespace samplan::app {

class AgencyDirectory;
class Checkpointer;
class ReadCache;

// Makes resource ids. Thread-safe.
class IdGenerator {
 public:
  virtual ~IdGenerator() = default;
  // 20 characters of [a-z0-9].
  virtual std::string NewId() = 0;
};

// Cryptographically random ids (OpenSSL RAND_bytes).
std::unique_ptr<IdGenerator> NewRandomIdGenerator();
// "id000001", "id000002", ...: predictable ids for tests.
std::unique_ptr<IdGenerator> NewSequentialIdGenerator();

// Everything an application service needs. Not owned.
struct AppContext {
  storage::Store* store = nullptr;
  CommitQueue* queue = nullptr;
  const Clock* clock = nullptr;
  IdGenerator* ids = nullptr;
  consent::Policy policy;
  int max_page_size = 500;
  // Signs audit checkpoints (AuditService); may be null where none are.
  const Checkpointer* checkpointer = nullptr;
  // The agency registry as callers are authorized against it; told when a
  // change to the registry commits. May be null (no cache to refresh).
  AgencyDirectory* agencies = nullptr;
  // Parsed plan contents and consent data kept between calls
  // (read_cache.h). May be null: every read parses afresh.
  ReadCache* read_cache = nullptr;
  // Keys the page tokens of filters that hold identity numbers (KeyedTag);
  // empty: a random key of this process.
  std::string page_token_key;
  // Tests only: runs between a method's read phase and its write phase
  // (method.h), to force a race deterministically.
  std::function<void()> between_phases_for_testing;
};

using Done = std::function<void(absl::Status)>;

// --- Validation. Each returns INVALID_ARGUMENT naming `field` or OK. ---

// 1-64 characters of [A-Za-z0-9._:-].
absl::Status CheckRequestId(absl::string_view request_id,
                            absl::string_view field = "request_id");
// "<collection>/<id>" with id 1-64 chars of [a-z0-9-]; returns the id.
absl::StatusOr<std::string> ParseName(absl::string_view name,
                                      absl::string_view collection,
                                      absl::string_view field);
// "plans/<plan>/<collection>/<id>"; returns {plan, id}.
absl::StatusOr<std::pair<std::string, std::string>> ParseChildName(
    absl::string_view name, absl::string_view collection,
    absl::string_view field);
// "agencies/<id>" with a valid agency id; returns the id.
absl::StatusOr<std::string> ParseAgencyName(absl::string_view name,
                                            absl::string_view field);
// A valid identity number; returns the canonical 12 digits.
absl::StatusOr<std::string> ParseIdentity(absl::string_view text,
                                          absl::string_view field);
// A set, valid Timestamp.
absl::StatusOr<absl::Time> ParseTime(const google::protobuf::Timestamp& t,
                                     bool present, absl::string_view field);
// A complete, valid calendar date.
absl::Status CheckDate(const google::type::Date& d, absl::string_view field);
// Evidence with a kind; reference at most 200 characters.
absl::Status CheckEvidence(const v1::Evidence& e, bool present,
                           absl::string_view field);
// At most `max` characters (bytes of UTF-8); `required` means non-empty.
absl::Status CheckText(absl::string_view text, size_t max, bool required,
                       absl::string_view field);
// page_size as every List and Search request defines it: 0 means 100,
// negative is invalid, larger than 1000 or than `max`
// (limits.max_page_size) is clamped.
inline constexpr int kDefaultPageSize = 100;
inline constexpr int kMaxPageSize = 1000;
absl::StatusOr<int> PageSize(int32_t page_size, int max);

// --- Page tokens: opaque, tied to the method and filter they came from. ---
// 24 hex digits of HMAC-SHA-256(key, text): binds a token to a filter
// holding an identity number without carrying it. Unlike a plain hash of a
// 12-digit number it cannot be reversed by trying every number. `key` is
// AppContext::page_token_key; empty: a random key of this process (tokens
// then do not survive a restart, nor reach another server).
std::string KeyedTag(absl::string_view key, absl::string_view text);

// A page-token key from a secret every server of a deployment shares (the
// audit signing key file), so that a token one server returned works on
// the others and after a restart, and reveals nothing of the secret.
std::string DerivePageTokenKey(absl::string_view secret);
std::string EncodePageToken(absl::string_view scope, absl::string_view after);
// INVALID_ARGUMENT (reason INVALID_PAGE_TOKEN) if `token` was not made by
// EncodePageToken for the same scope. An empty token gives "".
absl::StatusOr<std::string> DecodePageToken(absl::string_view token,
                                            absl::string_view scope);

// --- Time conversion (Timestamp ones: common/proto_time.h). ---
void SetDate(absl::CivilDay day, google::type::Date* out);

// --- Idempotency. ---

// A hash of `request` with its request_id cleared, to tell a retry from a
// different request reusing the id.
std::string Fingerprint(const google::protobuf::Message& request);

// --- Audit events. ---
// An event stamped with the caller, time and request id.
v1::AuditEvent NewEvent(const Caller& caller, int action,
                        absl::string_view subject, absl::string_view resource,
                        absl::Time now);

// The NOT_FOUND answer for plan `plan_id` (bare id) when the caller may not
// see it, identical whether or not it exists: its metadata "resource" is
// the name the request gave.
absl::Status PlanNotFound(absl::string_view plan_id);

// --- Plan visibility: the one rule, used by every method that shows,
// lists, checks or audits a plan (storage's ListForAgency applies the same
// rule in SQL). A plan exists for an agency that is its lead agency, or a
// participant not removed when the plan is not a draft. ---

// The ground on which `agency_id` sees the plan whose newest header is
// `newest` (nullptr: no such plan), given whether the agency takes part
// (lead agency or a participant not removed): DECISION_REASON_LEAD_AGENCY
// or DECISION_REASON_PLAN_PARTICIPANT; DECISION_REASON_UNSPECIFIED when it
// may not, with `*denial` saying why in words for the audit log (never for
// the caller).
int PlanGround(const v1::Plan* newest, absl::string_view agency_id,
               bool takes_part, std::string* denial);

// A plan as `agency_id` may see it: its newest header and the ground.
struct VisiblePlan {
  std::unique_ptr<v1::Plan> plan;
  int ground = 0;  // a v1::DecisionReason
};
// PlanNotFound(plan_id) when the plan does not exist or the agency may not
// see it.
absl::StatusOr<VisiblePlan> FindVisiblePlan(storage::Transaction& tx,
                                            absl::string_view agency_id,
                                            absl::string_view plan_id);

// Whether `agency_id` sees some plan about `subject` (the ground on which
// it sees consent data about the subject that another agency recorded).
absl::StatusOr<bool> SeesPlanAbout(storage::Transaction& tx,
                                   absl::string_view agency_id,
                                   absl::string_view subject);

// The registered agencies among `names` (`agencies/{agency}`; empty names
// and repeats are skipped), by name, for the words of a document: one not
// registered is left out.
absl::StatusOr<absl::flat_hash_map<std::string, v1::Agency>> ReadAgencies(
    storage::Transaction& tx, const std::vector<std::string>& names);

}  // namespace samplan::app

#endif  // SAMPLAN_APP_APP_SUPPORT_H_
